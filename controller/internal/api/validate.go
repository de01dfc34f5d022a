package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/gin-gonic/gin"
)

// validateRequest checks the request against its operation in the OpenAPI
// document and answers 400 VALIDATION_ERROR, naming the field, when it does
// not match. A JSON body without a Content-Type is taken as JSON.
func (a *API) validateRequest(c *gin.Context) {
	req := c.Request
	route, params, err := a.router.FindRoute(req)
	if err != nil {
		// Every gin route is in the document (a test checks), so this is a
		// fault of ours, not of the client.
		a.fail(c, fmt.Errorf("find openapi operation of %s %s: %w", req.Method, c.FullPath(), err))
		return
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		// Check parameters and bodies only: authentication is the
		// authenticate middleware's, and the handlers apply defaults.
		Options: &openapi3filter.Options{
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
		},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
		a.fail(c, requestError(err))
		return
	}
	c.Next()
}

// requestError turns a kin-openapi validation error into the client's
// Error. Messages name the field and the rule but never echo the value.
func requestError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	// A RequestError may wrap a MultiError (one error per branch of a oneOf),
	// so it is looked for first: the field is named only there.
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) {
		if p := reqErr.Parameter; p != nil {
			return parameterError(p, reqErr)
		}
		return bodyError(reqErr)
	}
	var multi openapi3.MultiError
	if errors.As(err, &multi) && len(multi) > 0 {
		return requestError(multi[0])
	}
	return validationError("", "request does not match the API description")
}

// parameterError describes a bad path, query or header parameter.
func parameterError(p *openapi3.Parameter, reqErr *openapi3filter.RequestError) error {
	reason := "is invalid"
	var schemaErr *openapi3.SchemaError
	var parseErr *openapi3filter.ParseError
	switch {
	case errors.Is(reqErr, openapi3filter.ErrInvalidRequired):
		reason = "is required"
	case errors.Is(reqErr, openapi3filter.ErrInvalidEmptyValue):
		reason = "must not be empty"
	case errors.As(reqErr, &schemaErr):
		reason = schemaReason(schemaErr)
	case errors.As(reqErr, &parseErr):
		reason = "must be of type " + schemaType(p.Schema)
	}
	return validationError(p.Name, "%s parameter %q %s", p.In, p.Name, reason)
}

// bodyError describes a bad request body: its field is the JSON path of
// the failing property, or "body" for the body as a whole.
func bodyError(reqErr *openapi3filter.RequestError) error {
	var schemaErr *openapi3.SchemaError
	var parseErr *openapi3filter.ParseError
	switch {
	case errors.As(reqErr, &schemaErr):
		field := fieldPath(schemaErr.JSONPointer())
		reason := alternatives(reqErr.Err, schemaErr)
		if field == "" {
			return validationError("body", "request body: %s", reason)
		}
		return validationError(field, "%s: %s", field, reason)
	case errors.As(reqErr, &parseErr):
		return validationError("body", "request body is not valid JSON")
	case errors.Is(reqErr, openapi3filter.ErrInvalidRequired):
		return validationError("body", "request body is required")
	case strings.Contains(reqErr.Reason, "Content-Type"):
		return validationError("content-type", "request body must be application/json")
	default:
		return validationError("body", "request body is invalid")
	}
}

// alternatives is the reason a value broke first's rule, or, where err holds one
// schema error per branch of a oneOf at the same place, every branch's reason.
func alternatives(err error, first *openapi3.SchemaError) string {
	var multi openapi3.MultiError
	if !errors.As(err, &multi) || len(multi) < 2 {
		return schemaReason(first)
	}
	reasons := make([]string, 0, len(multi))
	for _, e := range multi {
		var se *openapi3.SchemaError
		if !errors.As(e, &se) || fieldPath(se.JSONPointer()) != fieldPath(first.JSONPointer()) {
			return schemaReason(first)
		}
		reasons = append(reasons, schemaReason(se))
	}
	return strings.Join(reasons, ", or ")
}

// schemaType is the type a parameter's schema names, for messages.
func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil || len(*ref.Value.Type) == 0 {
		return "string"
	}
	return (*ref.Value.Type)[0]
}

// schemaReason says which rule a value broke, more briefly than
// kin-openapi for the rules whose own reasons are long.
func schemaReason(err *openapi3.SchemaError) string {
	switch {
	case err.SchemaField == "required":
		return "is required"
	case err.SchemaField == "format" && err.Schema != nil:
		return fmt.Sprintf("must be in %s format", err.Schema.Format)
	default:
		return err.Reason
	}
}

// fieldPath writes a JSON pointer the way our own validation names fields:
// sources[0].paths[1].
func fieldPath(pointer []string) string {
	var b strings.Builder
	for _, part := range pointer {
		if _, err := strconv.Atoi(part); err == nil {
			fmt.Fprintf(&b, "[%s]", part)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}
