package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
)

// finisher is the part of a job repository that ends attempts.
type finisher interface {
	Fail(ctx context.Context, id string, attempt int, msg string, retry bool, maxAttempts int,
		now time.Time) (bool, error)
	MarkCanceled(ctx context.Context, id string, attempt int, now time.Time) error
}

// records is what running a job writes: progress under a lease, and its end.
type records interface {
	finisher
	Progress(ctx context.Context, id string, attempt int, p store.JobProgress,
		now, leaseUntil time.Time) (bool, error)
}

// runOnAgent sends the job to its agent and waits for the result, recording progress
// and renewing the lease meanwhile. The progress writer is stopped before it returns, so
// nothing writes progress after the job's end is recorded.
func (r *Runner) runOnAgent(ctx context.Context, j *activeJob, job *protocol.Job,
	recs records) (*protocol.JobResult, error) {
	rec := &progressRecorder{r: r, j: j, records: recs}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rec.run(pctx)
	}()
	res, err := r.agents.RunJob(ctx, j.agentID, job, rec.observe)
	stop()
	<-done
	return res, err
}

// settle records the outcomes every kind of job shares, an interrupted run and a job
// the agent failed, and reports whether the caller goes on to record a success.
func (r *Runner) settle(ctx context.Context, j *activeJob, f finisher,
	res *protocol.JobResult, err error, log *slog.Logger) bool {
	if err != nil {
		r.interrupted(j, f, err, log)
		return false
	}
	if !res.OK {
		r.finishFailed(context.WithoutCancel(ctx), f, j, res.Error, false)
		log.Info(j.kind+" failed", "error", res.Error)
		return false
	}
	return true
}

// finishFailed ends the attempt as failed, or puts the job back in the queue when retry
// is set and attempts remain.
func (r *Runner) finishFailed(ctx context.Context, f finisher, j *activeJob, msg string,
	retry bool) {
	requeued, err := f.Fail(ctx, j.id, j.attempt, msg, retry, r.cfg.MaxAttempts, time.Now())
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		r.log.Info("job moved on before it could be failed", "job_id", j.id)
	case err != nil:
		r.log.Warn("record job failure", "job_id", j.id, "error", err)
	case requeued:
		r.log.Info("job requeued", "job_id", j.id, "reason", msg)
		r.Wake()
	}
}

// interrupted handles a job whose run ended without a result: canceled on request, this
// controller stopping, or the agent gone.
func (r *Runner) interrupted(j *activeJob, f finisher, err error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r.cancelRequested(ctx, j) {
		if err := f.MarkCanceled(ctx, j.id, j.attempt, time.Now()); err != nil {
			log.Warn("record cancel", "error", err)
		}
		log.Info("job canceled")
		return
	}
	log.Info("job interrupted; will retry", "error", err)
	r.finishFailed(ctx, f, j, "interrupted: "+err.Error(), true)
}

func (r *Runner) cancelRequested(ctx context.Context, j *activeJob) bool {
	switch j.kind {
	case protocol.JobKindRestore:
		rs, err := r.store.Restores().Get(ctx, "", j.id)
		return err == nil && rs.CancelRequested
	default:
		b, err := r.store.Backups().Get(ctx, "", j.id)
		return err == nil && b.CancelRequested
	}
}
