package dbdump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/grim-reaper/grim/protocol"
)

// Dump is a running dump tool. Read the dump from it until EOF, then call Wait: a tool
// that exits non-zero fails the dump even when every byte it wrote was read.
type Dump struct {
	io.Reader
	// Format is the format of the dump, one of the protocol's Format names.
	Format string
	// Tool is the dump tool with its version.
	Tool protocol.Tool
	p    *process
}

// Wait waits for the tool to exit and returns its failure, cleaned of the password.
func (d *Dump) Wait() error { return d.p.wait() }

// Start starts dumping the database of conn. Cancelling ctx stops the tool.
func Start(ctx context.Context, cfg Config, conn protocol.DBConn) (*Dump, error) {
	tool, err := cfg.Tool(DumpTools(conn.Engine)...)
	if err != nil {
		return nil, err
	}
	var p *process
	var format string
	switch conn.Engine {
	case protocol.EngineMySQL:
		p, err = mysqlDump(ctx, cfg, tool, conn)
		format = protocol.FormatMySQLSQL
	default:
		p, err = pgDump(ctx, cfg, tool, conn)
		format = protocol.FormatPgCustom
	}
	if err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		p.cleanup()
		return nil, fmt.Errorf("%s: %w", tool.Name, err)
	}
	if err := p.cmd.Start(); err != nil {
		p.cleanup()
		return nil, fmt.Errorf("start %s: %w", tool.Name, err)
	}
	cfg.logger().Debug("dump started", "tool", tool.Name, "pid", p.cmd.Process.Pid,
		"conn", conn)
	return &Dump{Reader: out, Format: format, Tool: tool, p: p}, nil
}

// Restore empties the target database if asked, creates it when missing, and runs the
// engine's client with what feed writes as its input. feed's writes fail once the client
// has stopped reading. An error of the client is returned in preference to feed's, as it
// says why.
func Restore(ctx context.Context, cfg Config, r protocol.DatabaseRestore,
	feed func(w io.Writer) error) error {
	if err := checkFormat(r); err != nil {
		return err
	}
	if err := prepare(ctx, cfg, r); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var p *process
	var err error
	if r.Conn.Engine == protocol.EngineMySQL {
		p, err = mysqlRestore(ctx, cfg, r)
	} else {
		p, err = pgRestore(ctx, cfg, r)
	}
	if err != nil {
		return err
	}
	return runFed(p, cancel, feed)
}

func checkFormat(r protocol.DatabaseRestore) error {
	want := protocol.FormatPgCustom
	if r.Conn.Engine == protocol.EngineMySQL {
		want = protocol.FormatMySQLSQL
	}
	if r.Format != want {
		return fmt.Errorf("a %s dump cannot be restored into %s", r.Format, r.Conn.Engine)
	}
	return nil
}

// prepare drops the target database when asked and creates it when missing.
func prepare(ctx context.Context, cfg Config, r protocol.DatabaseRestore) error {
	var p *process
	var script string
	var err error
	if r.Conn.Engine == protocol.EngineMySQL {
		p, script, err = mysqlPrepare(ctx, cfg, r)
	} else {
		p, script, err = pgPrepare(ctx, cfg, r)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = runFed(p, cancel, func(w io.Writer) error {
		_, err := io.WriteString(w, script)
		return err
	})
	if err != nil {
		return fmt.Errorf("prepare database %q: %w", r.Conn.Database, err)
	}
	return nil
}

// runFed starts p with feed writing its standard input and waits for it.
func runFed(p *process, cancel context.CancelFunc, feed func(w io.Writer) error) error {
	in, err := p.cmd.StdinPipe()
	if err != nil {
		p.cleanup()
		return fmt.Errorf("%s: %w", p.name, err)
	}
	if err := p.cmd.Start(); err != nil {
		p.cleanup()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	ferr := feed(in)
	cerr := in.Close()
	if ferr != nil && !errors.Is(ferr, syscall.EPIPE) && !strings.Contains(ferr.Error(),
		"file already closed") {
		// The input is incomplete: the client must not commit what it has.
		cancel()
		_ = p.wait()
		return ferr
	}
	if err := p.wait(); err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	if cerr != nil && !errors.Is(cerr, syscall.EPIPE) {
		return fmt.Errorf("%s input: %w", p.name, cerr)
	}
	return nil
}
