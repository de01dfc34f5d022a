package api

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gin-gonic/gin"
)

// openAPISpec is the hand-written description of every route. A test keeps
// it and the gin routes in step.
//
//go:embed openapi.yaml
var openAPISpec []byte

// loadSpec parses and checks the embedded document and builds the router
// that finds a request's operation in it.
func loadSpec() (*openapi3.T, routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPISpec)
	if err != nil {
		return nil, nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	return doc, router, nil
}

// mustLoadSpec is loadSpec for New: the document is part of the binary, so
// a broken one is a programming error.
func mustLoadSpec() ([]byte, routers.Router) {
	_, router, err := loadSpec()
	if err != nil {
		panic(err)
	}
	return openAPISpec, router
}

// openAPI serves GET /api/openapi.yaml.
func (a *API) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", a.spec)
}
