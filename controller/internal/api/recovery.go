package api

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

// recovery turns a panic in a later handler into a 500 INTERNAL_ERROR. The
// panic value and stack are logged; the client sees neither.
// http.ErrAbortHandler is re-raised, as net/http means it to abort.
func (a *API) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		a.log.ErrorContext(c.Request.Context(), "handler panicked",
			"request_id", requestID(c), "path", routeOf(c),
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		c.AbortWithStatusJSON(http.StatusInternalServerError, a.envelope(c, &Error{
			Status: http.StatusInternalServerError, Code: CodeInternal, Message: internalMessage,
		}))
	}()
	c.Next()
}
