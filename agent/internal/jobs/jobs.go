// Package jobs holds the work an agent does for the controller, one handler per job kind.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grim-reaper/grim/protocol"
)

// KindPing answers at once; the controller times the round trip.
const KindPing = "ping"

// Progress reports a job's progress to the controller.
type Progress func(*protocol.JobProgress) error

// Handler does one kind of job and returns the data of its result.
type Handler func(ctx context.Context, job *protocol.Job, progress Progress) (json.RawMessage, error)

// Registry maps job kinds to handlers. It is filled before the agent connects and only
// read afterwards, so it needs no lock.
type Registry struct {
	handlers map[string]Handler
	now      func() time.Time
}

// NewRegistry returns a registry with the built-in job kinds.
func NewRegistry(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	r := &Registry{handlers: make(map[string]Handler), now: now}
	r.Register(KindPing, r.ping)
	return r
}

// Register adds or replaces the handler of a job kind.
func (r *Registry) Register(kind string, h Handler) { r.handlers[kind] = h }

// Run does a job and always returns a result to send back, never an error: a failed or
// unknown job is a result with OK false.
func (r *Registry) Run(ctx context.Context, job *protocol.Job, progress Progress) *protocol.JobResult {
	h, ok := r.handlers[job.Kind]
	if !ok {
		return &protocol.JobResult{ID: job.ID, Error: fmt.Sprintf("unknown job kind %q", job.Kind)}
	}
	data, err := h(ctx, job, progress)
	if err != nil {
		return &protocol.JobResult{ID: job.ID, Error: err.Error()}
	}
	return &protocol.JobResult{ID: job.ID, OK: true, Data: data}
}

func (r *Registry) ping(_ context.Context, _ *protocol.Job, _ Progress) (json.RawMessage, error) {
	out, err := json.Marshal(map[string]time.Time{"received_at": r.now()})
	if err != nil {
		return nil, fmt.Errorf("encode pong: %w", err)
	}
	return out, nil
}
