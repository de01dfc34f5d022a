// Package jobs holds the work an agent does for the controller, one handler per job kind.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/transport"
)

// Progress reports a job's progress to the controller.
type Progress func(*protocol.JobProgress) error

// Env is what a job handler gets from the session that received the job.
type Env struct {
	// Progress sends a progress message on the job's stream.
	Progress Progress
	// OpenStream opens a new stream to the controller on the session's connection, for
	// the job's data.
	OpenStream func(ctx context.Context) (transport.Stream, error)
}

// Handler does one kind of job and returns the data of its result.
type Handler func(ctx context.Context, job *protocol.Job, env Env) (json.RawMessage, error)

// Config is what the built-in handlers need from the agent.
type Config struct {
	// StateDir holds the agent's state; backups keep their file caches under it, and
	// database tools their credential files.
	StateDir string
	Logger   *slog.Logger
	Now      func() time.Time
	// Tools are the database tools the agent found; nil means none.
	Tools *protocol.Capabilities
}

// Registry maps job kinds to handlers. It is filled before the agent connects and only
// read afterwards, so it needs no lock.
type Registry struct {
	handlers map[string]Handler
	cfg      Config
}

// NewRegistry returns a registry with the built-in job kinds: ping, backup and restore.
func NewRegistry(cfg Config) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := clearCredentials(cfg.StateDir); err != nil {
		cfg.Logger.Warn("remove old database credential files", "error", err)
	}
	r := &Registry{handlers: make(map[string]Handler), cfg: cfg}
	r.Register(protocol.JobKindPing, r.ping)
	r.Register(protocol.JobKindBackup, r.backup)
	r.Register(protocol.JobKindRestore, r.restore)
	return r
}

// Register adds or replaces the handler of a job kind.
func (r *Registry) Register(kind string, h Handler) { r.handlers[kind] = h }

// Run does a job and always returns a result to send back, never an error: a failed or
// unknown job is a result with OK false.
func (r *Registry) Run(ctx context.Context, job *protocol.Job, env Env) *protocol.JobResult {
	h, ok := r.handlers[job.Kind]
	if !ok {
		return &protocol.JobResult{ID: job.ID, Error: fmt.Sprintf("unknown job kind %q", job.Kind)}
	}
	data, err := h(ctx, job, env)
	if err != nil {
		return &protocol.JobResult{ID: job.ID, Error: err.Error()}
	}
	return &protocol.JobResult{ID: job.ID, OK: true, Data: data}
}

func (r *Registry) ping(context.Context, *protocol.Job, Env) (json.RawMessage, error) {
	out, err := json.Marshal(map[string]time.Time{"received_at": r.cfg.Now()})
	if err != nil {
		return nil, fmt.Errorf("encode pong: %w", err)
	}
	return out, nil
}

// sendProgress reports transfer progress; a failure to send is not the job's failure.
func sendProgress(env Env, jobID string, p protocol.TransferProgress) {
	data, err := json.Marshal(p)
	if err != nil || env.Progress == nil {
		return
	}
	_ = env.Progress(&protocol.JobProgress{ID: jobID, Percent: p.Percent(), Data: data})
}
