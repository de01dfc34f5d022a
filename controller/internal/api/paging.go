package api

import (
	"strconv"

	"github.com/gin-gonic/gin"
)

// Page sizes of list routes.
const (
	defaultLimit = 50
	maxLimit     = 100
)

// page is the limit and offset of a list request.
type page struct {
	Limit  int
	Offset int
}

// pageOf reads limit and offset from the query. The OpenAPI validation has
// already checked their types and ranges; this applies the defaults.
func pageOf(c *gin.Context) page {
	p := page{Limit: defaultLimit}
	if n, err := strconv.Atoi(c.Query("limit")); err == nil && n >= 1 {
		p.Limit = min(n, maxLimit)
	}
	if n, err := strconv.Atoi(c.Query("offset")); err == nil && n >= 0 {
		p.Offset = n
	}
	return p
}
