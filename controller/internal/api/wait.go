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

// awaitEnd calls get until the job it returns has ended or wait has passed, and returns
// the last answer. A client that goes away ends the wait with the answer it has. This
// lets a client learn of a job's end as it happens with one request every wait seconds,
// rather than by polling fast.
func awaitEnd[T any](ctx context.Context, wait time.Duration,
	get func(context.Context) (T, error), status func(T) string) (T, error) {
	v, err := get(ctx)
	if err != nil || wait <= 0 || jobEnded(status(v)) {
		return v, err
	}
	start := time.Now()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		pause := time.NewTimer(nextPoll(time.Since(start)))
		select {
		case <-ctx.Done():
			pause.Stop()
			return v, nil
		case <-deadline.C:
			pause.Stop()
			return v, nil
		case <-pause.C:
		}
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
