package api

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Rate-limit reply headers, as the contract names them.
const (
	HeaderRateLimit     = "X-RateLimit-Limit"
	HeaderRateRemaining = "X-RateLimit-Remaining"
	HeaderRateReset     = "X-RateLimit-Reset"
	HeaderRetryAfter    = "Retry-After"
)

// CodeRateLimited is the envelope code of a request past its plan's limit.
const CodeRateLimited = "RATE_LIMIT_EXCEEDED"

// rateLimit counts the authenticated request against its account's plan.
// A plan with limits gets the X-RateLimit headers on every reply, and past
// a limit 429 RATE_LIMIT_EXCEEDED with Retry-After. It runs after
// authenticate.
func (a *API) rateLimit(c *gin.Context) {
	acct := accountFrom(c)
	d, err := a.limiter.Allow(c.Request.Context(), acct.ID, acct.Plan)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !d.Limited {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Set(HeaderRateLimit, strconv.FormatInt(d.Limit, 10))
	h.Set(HeaderRateRemaining, strconv.FormatInt(d.Remaining, 10))
	h.Set(HeaderRateReset, strconv.FormatInt(d.Reset.Unix(), 10))
	if d.Allowed {
		c.Next()
		return
	}
	retry := int64(math.Ceil(d.RetryAfter.Seconds()))
	h.Set(HeaderRetryAfter, strconv.FormatInt(max(retry, 1), 10))
	a.fail(c, &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
		Message: "the plan's request limit is reached; retry after the reset",
		Details: map[string]any{"plan": acct.Plan, "limit": d.Limit,
			"reset": timestamp(d.Reset), "retry_after_seconds": max(retry, 1)}})
}
