// Package dbdump runs the database engines' own tools for the agent: pg_dump and
// pg_restore for PostgreSQL, mariadb-dump and mariadb (or mysqldump and mysql) for
// MySQL and MariaDB. A dump streams from the tool's standard output; a restore streams
// into the client's standard input. Neither touches a temporary file for data.
//
// Passwords never reach a command line, where ps would show them: PostgreSQL tools read
// them from a private password file (PGPASSFILE), MySQL tools from a private option
// file (--defaults-extra-file). Both files are mode 0600 and removed when the tool
// exits. Tools never prompt: a missing or wrong password fails at once.
package dbdump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/grim-reaper/grim/protocol"
)

// ErrToolMissing reports that the engine's tool is not on the agent's PATH.
var ErrToolMissing = errors.New("not found on the agent's PATH")

// stopGrace is how long a tool gets to exit after SIGTERM before it is killed, and
// after exiting for its output pipes to close.
const stopGrace = 5 * time.Second

// Config is what every run of a tool needs.
type Config struct {
	// Tools are the tools found on the PATH; see Detect.
	Tools *protocol.Capabilities
	// TempDir holds the credential files; empty means os.TempDir().
	TempDir string
	Logger  *slog.Logger
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger.With("component", "dbdump")
}

// Tool returns the first of names the agent has, or an error wrapping ErrToolMissing.
func (c Config) Tool(names ...string) (protocol.Tool, error) {
	if c.Tools != nil {
		for _, n := range names {
			for _, t := range c.Tools.Tools {
				if t.Name == n {
					return t, nil
				}
			}
		}
	}
	return protocol.Tool{}, fmt.Errorf("%s: %w", strings.Join(names, " or "), ErrToolMissing)
}

// process is one running tool with its credentials file and captured standard error.
type process struct {
	cmd    *exec.Cmd
	stderr *tailBuffer
	secret string
	name   string
	// cleanup removes the credentials file; it runs once the tool has exited.
	cleanup func()
}

// newProcess prepares a tool run; the caller sets its standard streams and starts it.
func newProcess(ctx context.Context, path string, args, env []string, secret string,
	cleanup func()) *process {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, stderr: newTailBuffer(8 << 10), secret: secret,
		name: baseName(path), cleanup: cleanup}
	cmd.Stderr = p.stderr
	return p
}

// wait waits for the tool and turns a failure into an error carrying the tool's own
// message, with the password taken out.
func (p *process) wait() error {
	err := p.cmd.Wait()
	p.cleanup()
	if err == nil {
		return nil
	}
	msg := clean(p.stderr.String(), p.secret)
	var exit *exec.ExitError
	if errors.As(err, &exit) && msg != "" {
		return fmt.Errorf("%s failed (%s): %s", p.name, exitText(exit), msg)
	}
	if msg != "" {
		return fmt.Errorf("%s failed: %s: %s", p.name, clean(err.Error(), p.secret), msg)
	}
	return fmt.Errorf("%s failed: %s", p.name, clean(err.Error(), p.secret))
}

func exitText(e *exec.ExitError) string {
	if ws, ok := e.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", e.ExitCode())
}

// clean keeps the useful lines of a tool's message and removes the secret from them.
func clean(s, secret string) string {
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	const keep = 6
	if len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}
	return strings.Join(lines, "; ")
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// baseEnv is the agent's environment without the variables through which the engines'
// tools would pick up connection settings of their own.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "MYSQL") ||
			strings.HasPrefix(kv, "MARIADB") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// writeSecretFile writes content to a new file only the agent's user can read, and
// returns its path and a function that removes it.
func writeSecretFile(dir, pattern, content string) (string, func(), error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", nil, fmt.Errorf("create credentials file: %w", err)
	}
	remove := func() { _ = os.Remove(f.Name()) }
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		remove()
		return "", nil, fmt.Errorf("protect credentials file: %w", err)
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Close()
		remove()
		return "", nil, fmt.Errorf("write credentials file: %w", err)
	}
	if err := f.Close(); err != nil {
		remove()
		return "", nil, fmt.Errorf("write credentials file: %w", err)
	}
	return f.Name(), remove, nil
}

// CheckPassword reports whether a password can be handed to the tools: their
// credential files cannot hold line breaks or NUL bytes.
func CheckPassword(pw string) error {
	if strings.ContainsAny(pw, "\x00\r\n") {
		return errors.New("password must not contain line breaks or NUL bytes")
	}
	return nil
}
