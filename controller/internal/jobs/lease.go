package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
)

// progressRecorder keeps the latest progress of a running attempt and writes it, renewing
// the lease, at most once a second and at least every third of the lease.
type progressRecorder struct {
	r       *Runner
	j       *activeJob
	records records

	mu   sync.Mutex // guards last
	last store.JobProgress
}

// observe takes one JobProgress message from the agent.
func (p *progressRecorder) observe(m *protocol.JobProgress) {
	var tp protocol.TransferProgress
	if len(m.Data) > 0 && json.Unmarshal(m.Data, &tp) != nil {
		return
	}
	p.mu.Lock()
	p.last = store.JobProgress{Percent: tp.Percent(), BytesDone: tp.BytesDone,
		BytesTotal: tp.BytesTotal, Files: tp.FilesDone}
	p.mu.Unlock()
}

// run writes progress until ctx ends. It cancels the job when the database says it was
// canceled or that this attempt lost its lease.
func (p *progressRecorder) run(ctx context.Context) {
	every := min(time.Second, p.r.cfg.Lease/3)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		last := p.last
		p.mu.Unlock()
		now := time.Now()
		cancel, err := p.records.Progress(ctx, p.j.id, p.j.attempt, last, now, now.Add(p.r.cfg.Lease))
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			p.r.log.Warn("job lease lost; stopping it here", "job_id", p.j.id)
			p.j.cancel()
			return
		case err != nil:
			if ctx.Err() == nil {
				p.r.log.Warn("record job progress", "job_id", p.j.id, "error", err)
			}
		case cancel:
			p.j.cancel()
			return
		}
	}
}
