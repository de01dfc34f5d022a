package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/idempotency"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// Error codes of the envelope, as the contract names them.
const (
	CodeUnauthorized     = "UNAUTHORIZED"
	CodeInvalidAPIKey    = "INVALID_API_KEY"
	CodeForbidden        = "FORBIDDEN"
	CodeNotFound         = "NOT_FOUND"
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeConflict         = "CONFLICT"
	CodePayloadTooLarge  = "PAYLOAD_TOO_LARGE"
	CodeValidation       = "VALIDATION_ERROR"
	CodeAgentUnavailable = "AGENT_UNAVAILABLE"
	CodeInternal         = "INTERNAL_ERROR"
)

// internalMessage is the only message a client sees for a server fault.
const internalMessage = "internal server error"

// Error is the one error type that reaches clients: a status, a code of the
// contract, a message safe to show, and optional details. Handlers return
// it (or a store sentinel) and fail writes it as the envelope.
type Error struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// envelope is the reply body of every error.
type envelope struct {
	Error envelopeBody `json:"error"`
}

type envelopeBody struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	Details   map[string]any `json:"details"`
	Timestamp string         `json:"timestamp"`
	RequestID string         `json:"request_id"`
}

// validationError is a 400 VALIDATION_ERROR about field ("" if unknown).
func validationError(field, format string, args ...any) *Error {
	e := &Error{Status: http.StatusBadRequest, Code: CodeValidation,
		Message: fmt.Sprintf(format, args...)}
	if field != "" {
		e.Details = map[string]any{"field": field}
	}
	return e
}

// payloadTooLarge is the 413 for a body over limit bytes.
func payloadTooLarge(limit int64) *Error {
	return &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Code:    CodePayloadTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes", limit),
		Details: map[string]any{"limit_bytes": limit},
	}
}

// fail writes err as the error envelope and stops the handler chain. It is
// the one place that maps errors to statuses; a server fault is logged here
// with its real error, and the client sees only a generic message.
func (a *API) fail(c *gin.Context, err error) {
	e := a.toError(c, err)
	c.AbortWithStatusJSON(e.Status, a.envelope(c, e))
}

// toError maps err to the Error the client sees.
func (a *API) toError(c *gin.Context, err error) *Error {
	var apiErr *Error
	var tooLarge *http.MaxBytesError
	if e, ok := licenseError(err); ok {
		return e
	}
	if e, ok := webhookError(err); ok {
		return e
	}
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &tooLarge):
		return payloadTooLarge(tooLarge.Limit)
	case errors.Is(err, idempotency.ErrReuse):
		return &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: "Idempotency-Key was used with a different request in the last 24 hours",
			Details: map[string]any{"field": "Idempotency-Key"}}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "resource not found"}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: "resource conflicts with an existing one"}
	case errors.Is(err, store.ErrAgentUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeAgentUnavailable,
			Message: "agent is not connected or did not answer"}
	}
	a.logFault(c, err)
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: internalMessage}
}

// logFault logs a server fault. A request the client abandoned is not one.
func (a *API) logFault(c *gin.Context, err error) {
	ctx := c.Request.Context()
	if errors.Is(err, context.Canceled) {
		a.log.DebugContext(ctx, "request canceled", "request_id", requestID(c),
			"path", c.FullPath(), "error", err)
		return
	}
	a.log.ErrorContext(ctx, "request failed", "request_id", requestID(c),
		"path", c.FullPath(), "error", err)
}

func (a *API) envelope(c *gin.Context, e *Error) envelope {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	return envelope{Error: envelopeBody{
		Code:      e.Code,
		Message:   e.Message,
		Details:   details,
		Timestamp: a.now().UTC().Format(time.RFC3339),
		RequestID: requestID(c),
	}}
}

// noRoute answers paths no route takes: the dashboard outside /api/ when
// there is one, else 404.
func (a *API) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if a.web != nil && p != "/api" && !strings.HasPrefix(p, "/api/") {
		// gin has preset 404 for an unrouted request; the dashboard sets
		// its own status, 200 unless it says otherwise.
		c.Status(http.StatusOK)
		a.web.ServeHTTP(c.Writer, c.Request)
		return
	}
	a.fail(c, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
		Message: "no such route"})
}

// noMethod answers a known path with a method it does not take. gin has
// already set the Allow header.
func (a *API) noMethod(c *gin.Context) {
	a.fail(c, &Error{
		Status:  http.StatusMethodNotAllowed,
		Code:    CodeMethodNotAllowed,
		Message: fmt.Sprintf("method %s is not allowed here", c.Request.Method),
		Details: map[string]any{"allow": c.Writer.Header().Get("Allow")},
	})
}

// decodeJSON decodes the request body into v. An empty body leaves v as it
// is, for routes whose body is optional; the OpenAPI validation has
// already refused a missing body where one is required.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	err := dec.Decode(v)
	if err == nil {
		// One JSON value and nothing after it but white space.
		if _, next := dec.Token(); !errors.Is(next, io.EOF) {
			return validationError("body", "request body has data after the JSON value")
		}
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &typeErr):
		return validationError(typeErr.Field, "%s must be of type %s", typeErr.Field,
			typeErr.Type.Kind())
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return validationError("body", "request body is not valid JSON")
	default:
		return validationError("body", "request body cannot be decoded")
	}
}
