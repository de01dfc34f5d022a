package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/grim-reaper/grim/agent/internal/identity"
	"github.com/grim-reaper/grim/agent/internal/jobs"
	"github.com/grim-reaper/grim/internal/buildinfo"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/transport"
)

// Config sets up the agent's link to its controller.
type Config struct {
	Identity   *identity.Identity
	Controller string // host:port; defaults to the one saved at enrolment
	Mode       transport.Mode
	Hostname   string
	Jobs       *jobs.Registry
	// Capabilities are reported to the controller in every hello.
	Capabilities *protocol.Capabilities
	Logger       *slog.Logger
	// MinBackoff and MaxBackoff bound the jittered delay between reconnects.
	MinBackoff, MaxBackoff time.Duration
}

func (c *Config) defaults() {
	if c.Controller == "" {
		c.Controller = c.Identity.Controller
	}
	if c.Mode == "" {
		c.Mode = transport.ModeAuto
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 250 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = 15 * time.Second
	}
}

// stableAfter is how long a session must last before the reconnect delay starts over.
const stableAfter = 30 * time.Second

// Run keeps the agent connected until ctx ends, reconnecting with jittered exponential
// backoff whenever the controller goes away. It returns nil when ctx ends.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	log := cfg.Logger.With("component", "link", "controller", cfg.Controller)
	delay := cfg.MinBackoff
	for {
		start := time.Now()
		err := runSession(ctx, cfg, log)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > stableAfter {
			delay = cfg.MinBackoff
		}
		wait := jitter(delay)
		log.Warn("controller link down; reconnecting", "error", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		delay = min(delay*2, cfg.MaxBackoff)
	}
}

// jitter spreads reconnects of many agents over [d/2, d) so they do not arrive together.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}

// runSession connects once, says hello, then sends heartbeats and serves jobs until the
// connection fails or ctx ends.
func runSession(ctx context.Context, cfg Config, log *slog.Logger) error {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, err := transport.Dial(dctx, cfg.Controller, sessionTLS(cfg.Identity), cfg.Mode,
		transport.DialOptions{})
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()

	ctl, err := conn.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("open control stream: %w", err)
	}
	defer ctl.Close()
	enc, dec := protocol.NewEncoder(ctl), protocol.NewDecoder(ctl)
	ack, err := hello(ctl, enc, dec, cfg)
	if err != nil {
		return err
	}
	log = log.With("agent_id", ack.AgentID, "transport", conn.Transport())
	log.Info("connected to controller", "protocol", ack.Protocol,
		"controller_version", ack.ControllerVersion)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveJobs(sctx, conn, cfg.Jobs, log)
	}()
	err = heartbeats(sctx, conn, ctl, enc, dec, heartbeatEvery(ack))
	stop()
	conn.Close()
	<-done
	return err
}

func hello(ctl transport.Stream, enc *protocol.Encoder, dec *protocol.Decoder,
	cfg Config) (*protocol.HelloAck, error) {
	_ = ctl.SetDeadline(time.Now().Add(30 * time.Second))
	defer func() { _ = ctl.SetDeadline(time.Time{}) }()
	err := enc.Encode(&protocol.Hello{
		ProtocolMin: protocol.ProtocolMin, ProtocolMax: protocol.ProtocolMax,
		AgentVersion: buildinfo.Version, Hostname: cfg.Hostname, OS: runtime.GOOS,
		Arch: runtime.GOARCH, Name: cfg.Identity.Name, Capabilities: cfg.Capabilities,
	})
	if err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	ack, err := protocol.Expect[*protocol.HelloAck](dec)
	if err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	return ack, nil
}

func heartbeatEvery(ack *protocol.HelloAck) time.Duration {
	if ack.HeartbeatSeconds <= 0 {
		return 10 * time.Second
	}
	return time.Duration(ack.HeartbeatSeconds) * time.Second
}

// heartbeats sends a heartbeat every period and waits for its acknowledgement; a missing
// acknowledgement means the controller is gone even when the network did not say so.
func heartbeats(ctx context.Context, conn transport.Conn, ctl transport.Stream,
	enc *protocol.Encoder, dec *protocol.Decoder, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for seq := uint64(1); ; seq++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-conn.Done():
			return errors.New("connection closed")
		case <-t.C:
		}
		_ = ctl.SetDeadline(time.Now().Add(2 * every))
		if err := enc.Encode(&protocol.Heartbeat{Seq: seq, SentAt: time.Now()}); err != nil {
			return fmt.Errorf("send heartbeat: %w", err)
		}
		ack, err := protocol.Expect[*protocol.HeartbeatAck](dec)
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		if ack.Seq != seq {
			return fmt.Errorf("heartbeat: ack %d for %d", ack.Seq, seq)
		}
	}
}

// serveJobs accepts job streams from the controller, one goroutine per job, and waits for
// all of them before returning.
func serveJobs(ctx context.Context, conn transport.Conn, reg *jobs.Registry, log *slog.Logger) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		wg.Go(func() { serveJob(ctx, conn, st, reg, log) })
	}
}

func serveJob(ctx context.Context, conn transport.Conn, st transport.Stream, reg *jobs.Registry,
	log *slog.Logger) {
	defer st.Close()
	stop := context.AfterFunc(ctx, st.Reset)
	defer stop()
	enc := protocol.NewEncoder(st)
	job, err := protocol.Expect[*protocol.Job](protocol.NewDecoder(st))
	if err != nil {
		log.Info("bad job stream", "error", err)
		_ = enc.Encode(&protocol.Error{Code: protocol.ErrCodeBadMessage, Message: "expected a job"})
		return
	}
	log.Debug("job received", "job_id", job.ID, "kind", job.Kind)
	var mu sync.Mutex // guards enc: a handler may report progress from its own goroutines
	env := jobs.Env{
		Progress: func(p *protocol.JobProgress) error {
			mu.Lock()
			defer mu.Unlock()
			return enc.Encode(p)
		},
		OpenStream: conn.OpenStream,
	}
	res := reg.Run(ctx, job, env)
	mu.Lock()
	defer mu.Unlock()
	if err := enc.Encode(res); err != nil {
		log.Info("send job result", "job_id", job.ID, "error", err)
	}
}
