package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/store"
)

const (
	// maxWait caps the wait query parameter, below common proxy idle timeouts.
	maxWait = 60 * time.Second
	// A waiting request looks at the job again after a quarter of the time it has waited
	// so far, within these bounds: the end of a short job is seen within milliseconds,
	// and a long wait costs a few reads a second. The job's state is in the database, so
	// this sees changes made by any controller sharing it.
	minWaitPoll = 10 * time.Millisecond
	maxWaitPoll = 250 * time.Millisecond
)

// nextPoll is the pause before the next look at a job, after waiting for elapsed.
func nextPoll(elapsed time.Duration) time.Duration {
	return min(max(elapsed/4, minWaitPoll), maxWaitPoll)
}

// waitOf reads the wait query parameter of a job's GET: how many seconds the reply may be
// held back until the job has ended. The OpenAPI validation has already checked its range.
func waitOf(c *gin.Context) time.Duration {
	n, err := strconv.Atoi(c.Query("wait"))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxWait)
}

// jobEnded reports whether a job status is final.
func jobEnded(status string) bool {
	return status == store.JobCompleted || status == store.JobFailed ||
		status == store.JobCanceled
}

// jobEnded returns the job runner's signal of the next job end here; nil, which never
// fires, without a runner.
func (a *API) jobEnded() <-chan struct{} {
	if a.jobs == nil {
		return nil
	}
	return a.jobs.Ended()
}

// awaitEnd calls get until the job it returns has ended or wait has passed, and returns
// the last answer. A client that goes away ends the wait with the answer it has. This
// lets a client learn of a job's end as it happens with one request every wait seconds,
// rather than by polling fast. ended gives a channel closed when a job run by this
// controller ends, which makes it look again at once; jobs that end elsewhere are seen by
// looking at the pace of nextPoll.
func awaitEnd[T any](ctx context.Context, wait time.Duration, ended func() <-chan struct{},
	get func(context.Context) (T, error), status func(T) string) (T, error) {
	return awaitEndPolling(ctx, wait, nextPoll, ended, get, status)
}

// awaitEndPolling is awaitEnd with the pause between looks given by poll.
func awaitEndPolling[T any](ctx context.Context, wait time.Duration,
	poll func(time.Duration) time.Duration, ended func() <-chan struct{},
	get func(context.Context) (T, error), status func(T) string) (T, error) {
	// The signal is taken before each look, so an end between the look and the pause
	// still wakes the pause.
	signal := ended()
	v, err := get(ctx)
	if err != nil || wait <= 0 || jobEnded(status(v)) {
		return v, err
	}
	start := time.Now()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		pause := time.NewTimer(poll(time.Since(start)))
		select {
		case <-ctx.Done():
			pause.Stop()
			return v, nil
		case <-deadline.C:
			pause.Stop()
			return v, nil
		case <-signal:
			pause.Stop()
		case <-pause.C:
		}
		signal = ended()
		next, err := get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return v, nil
			}
			return next, err
		}
		v = next
		if jobEnded(status(v)) {
			return v, nil
		}
	}
}
