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
	// waitPoll is how often a waiting request looks at the job again. The job's state is
	// in the database, so this sees changes made by any controller sharing it.
	waitPoll = 100 * time.Millisecond
)

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
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return v, nil
		case <-deadline.C:
			return v, nil
		case <-tick.C:
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
