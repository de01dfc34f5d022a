package api

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	_, _, err := loadSpec()
	require.NoError(t, err)
}

func TestOpenAPIServed(t *testing.T) {
	env := newEnv(t)
	rec := env.do("GET", "/api/openapi.yaml", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "yaml")
	assert.Equal(t, openAPISpec, rec.Body.Bytes())
}

// TestRoutesMatchOpenAPI keeps gin's routes and the document in step: each
// registered route is described, and each described operation is served.
func TestRoutesMatchOpenAPI(t *testing.T) {
	env := newEnv(t)
	doc, _, err := loadSpec()
	require.NoError(t, err)

	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	var served []string
	for _, r := range env.api.engine.Routes() {
		served = append(served, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	var described []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(described)
	assert.Equal(t, described, served)
}

// TestOpenAPIDescribesErrors checks that every operation under /api/ that
// needs a key documents 401 and that every error reply is the envelope.
func TestOpenAPIDescribesErrors(t *testing.T) {
	doc, _, err := loadSpec()
	require.NoError(t, err)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := op.Security != nil && len(*op.Security) == 0
			if strings.HasPrefix(path, "/api/") && !public {
				assert.NotNil(t, op.Responses.Value("401"), "%s %s lacks 401", method, path)
			}
			for code, resp := range op.Responses.Map() {
				if code[0] != '4' && code[0] != '5' || path == "/healthz" {
					continue
				}
				media := resp.Value.Content.Get("application/json")
				require.NotNil(t, media, "%s %s %s", method, path, code)
				assert.Equal(t, "#/components/schemas/ErrorEnvelope", media.Schema.Ref,
					"%s %s %s", method, path, code)
			}
		}
	}
}
