// Package proc starts the programs the benchmark drives: daemons that run for the whole
// benchmark and commands that run to their end. Every child is killed when the driver
// dies, whatever the way, so a failed run leaves no process behind.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before it is killed.
const stopGrace = 10 * time.Second

// Daemon is a long-running child process whose output goes to a log file.
type Daemon struct {
	Name string
	Log  string // the file holding its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // the exit status, set before done is closed
}

// StartDaemon starts path with args and env added to the driver's environment, its output
// appended to logPath.
func StartDaemon(name, logPath string, env []string, path string, args ...string) (*Daemon, error) {
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	defer log.Close() // the child keeps its own copy of the descriptor
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &Daemon{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// Pid is the process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM, then SIGKILL after a grace period, and waits for the end. It may
// be called more than once; a process killed by Stop's signal is not an error.
func (d *Daemon) Stop() error {
	if d.Exited() {
		return nil
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(stopGrace):
		_ = d.cmd.Process.Kill()
		<-d.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", d.Name, stopGrace)
	}
	var exit *exec.ExitError
	if errors.As(d.err, &exit) && !exit.Exited() {
		return nil // ended by the signal
	}
	return d.err
}

// Result is a finished command.
type Result struct {
	Stdout, Stderr []byte
	Wall           time.Duration
	// MaxRSS is the peak resident set size of the command in bytes, as the kernel
	// counted it (getrusage ru_maxrss, what `time -v` prints).
	MaxRSS int64
	// CPU is the user and system time the command spent.
	CPU time.Duration
}

// Run runs path with args and env added to the driver's environment, to its end. A
// nonzero exit is an *exec.ExitError, returned with the result.
func Run(ctx context.Context, env []string, path string, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = childAttr()
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSS = ru.Maxrss * 1024 // Linux counts kilobytes
		}
	}
	if err != nil && ctx.Err() != nil {
		return res, fmt.Errorf("%w (%v)", ctx.Err(), err) // killed because we were stopped
	}
	return res, err
}
