package api

import (
	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// HeaderRequestID carries the request id in every reply.
const HeaderRequestID = "X-Request-Id"

// requestIDKey is where the request id lives in the gin context.
const requestIDKey = "grim.request_id"

// requestID gives every request a fresh id, "req_" and 20 random
// characters, in the X-Request-Id reply header and the gin context. An id
// sent by the client is ignored: ids in our logs are ours.
func (a *API) requestID(c *gin.Context) {
	id := store.NewID("req")
	c.Set(requestIDKey, id)
	c.Header(HeaderRequestID, id)
	c.Next()
}

// requestID returns the request's id, or "" before the middleware ran.
func requestID(c *gin.Context) string {
	return c.GetString(requestIDKey)
}
