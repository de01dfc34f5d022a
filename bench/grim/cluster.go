// Package grim runs Grim Reaper for the benchmark: a controller and one agent started as
// separate processes on loopback, on fresh state in a work directory, the agent enrolled
// with a join token through the CLI the way scripts/run.sh does it. Backups and restores
// go through the CLI as a user's script would run them.
package grim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grim-reaper/grim/bench/proc"
)

const (
	agentName   = "bench"
	startLimit  = 30 * time.Second
	pollEvery   = 100 * time.Millisecond
	logTailSize = 20 // lines of each log shown with an error
)

// Cluster is a running controller with one enrolled agent.
type Cluster struct {
	bin       string // directory of grim-controller, grim-agent and grim
	transport string // the agent's --transport
	dataDir   string // the controller's --data-dir
	httpAddr  string
	agentAddr string
	ctrl      *proc.Daemon
	agent     *proc.Daemon
	version   string
	lastID    string // the last completed backup
}

// Start starts a controller and an agent using the given transport (auto, quic or tcp)
// with state below workDir, which must exist, and waits until the agent is online. The
// caller must Close the cluster, even on error.
func Start(ctx context.Context, bin, workDir, transport string) (*Cluster, error) {
	c := &Cluster{bin: bin, dataDir: filepath.Join(workDir, "controller"), transport: transport}
	var err error
	if c.httpAddr, err = freeAddr(); err != nil {
		return c, err
	}
	if c.agentAddr, err = freeAddr(); err != nil {
		return c, err
	}
	if err := c.startController(ctx, workDir); err != nil {
		return c, err
	}
	if err := c.startAgent(ctx, workDir); err != nil {
		return c, err
	}
	out, err := c.cli(ctx, "version")
	c.version = strings.TrimSpace(string(out.Stdout))
	return c, err
}

// startController starts the controller and waits until it answers /healthz.
func (c *Cluster) startController(ctx context.Context, workDir string) error {
	var err error
	c.ctrl, err = proc.StartDaemon("grim-controller", filepath.Join(workDir, "controller.log"),
		nil, filepath.Join(c.bin, "grim-controller"), "serve", "--config=", "--data-dir", c.dataDir,
		"--http-addr", c.httpAddr, "--agent-addr", c.agentAddr, "--log-level", "warn")
	if err != nil {
		return err
	}
	return c.waitFor(ctx, "controller healthy", c.ctrl, func() bool {
		resp, err := http.Get("http://" + c.httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// startAgent asks for a join token, starts the agent with it and waits until the
// controller lists it online.
func (c *Cluster) startAgent(ctx context.Context, workDir string) error {
	out, err := c.cli(ctx, "agents", "token", "--ttl", "600")
	if err != nil {
		return fmt.Errorf("join token: %w", err)
	}
	token := strings.TrimSpace(string(out.Stdout))
	c.agent, err = proc.StartDaemon("grim-agent", filepath.Join(workDir, "agent.log"), nil,
		filepath.Join(c.bin, "grim-agent"), "run", "--config=", "--controller", c.agentAddr,
		"--state-dir", filepath.Join(workDir, "agent"), "--name", agentName, "--token", token,
		"--log-level", "warn", "--transport", c.transport)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, "agent online", c.agent, func() bool {
		var reply struct {
			Agents []struct{ Name, Status string } `json:"agents"`
		}
		if c.cliJSON(ctx, &reply, "agents", "list") != nil {
			return false
		}
		for _, a := range reply.Agents {
			if a.Name == agentName && a.Status == "online" {
				return true
			}
		}
		return false
	})
}

// waitFor polls cond until it holds, failing early when d exits.
func (c *Cluster) waitFor(ctx context.Context, what string, d *proc.Daemon,
	cond func() bool) error {
	deadline := time.Now().Add(startLimit)
	for !cond() {
		if d.Exited() {
			return fmt.Errorf("waiting for %s: %s exited\n%s", what, d.Name, c.LogTails())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: gave up after %s\n%s", what, startLimit,
				c.LogTails())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
	return nil
}

// Close stops the agent, then the controller. It may be called more than once.
func (c *Cluster) Close() error {
	var errs []error
	for _, d := range []*proc.Daemon{c.agent, c.ctrl} {
		if d != nil {
			errs = append(errs, d.Stop())
		}
	}
	return errors.Join(errs...)
}

// Log is the log file of one process.
type Log struct {
	Process string
	Path    string
}

// Logs returns the log files of the controller and the agent.
func (c *Cluster) Logs() []Log {
	var out []Log
	for _, d := range []*proc.Daemon{c.ctrl, c.agent} {
		if d != nil {
			out = append(out, Log{Process: d.Name, Path: d.Log})
		}
	}
	return out
}

// LogTails returns the last lines of both logs, for error messages.
func (c *Cluster) LogTails() string {
	var b strings.Builder
	for _, d := range []*proc.Daemon{c.ctrl, c.agent} {
		if d == nil {
			continue
		}
		raw, _ := os.ReadFile(d.Log)
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		lines = lines[max(0, len(lines)-logTailSize):]
		fmt.Fprintf(&b, "--- last lines of %s:\n%s\n", d.Log, strings.Join(lines, "\n"))
	}
	return b.String()
}

// pids names the processes the benchmark follows.
func (c *Cluster) pids() map[string]int {
	return map[string]int{"agent": c.agent.Pid(), "controller": c.ctrl.Pid()}
}

// freeAddr finds a loopback port free for both TCP and UDP, as the agent endpoint serves
// QUIC and TLS on one number.
func freeAddr() (string, error) {
	for range 50 {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("find a free port: %w", err)
		}
		addr := tl.Addr().String()
		ul, err := net.ListenPacket("udp", addr)
		tl.Close()
		if err == nil {
			ul.Close()
			return addr, nil
		}
	}
	return "", errors.New("find a free port: none free for both TCP and UDP")
}
