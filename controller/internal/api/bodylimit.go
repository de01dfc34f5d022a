package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// limitBody refuses bodies over the limit: at once when Content-Length
// says so, and otherwise when a reader passes it (the reader's
// *http.MaxBytesError maps to 413 in fail).
func (a *API) limitBody(c *gin.Context) {
	if c.Request.ContentLength > a.maxBody {
		a.fail(c, payloadTooLarge(a.maxBody))
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.maxBody)
	}
	c.Next()
}
