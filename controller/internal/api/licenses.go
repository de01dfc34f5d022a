package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/license"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// licenseView is a license as replies show it.
type licenseView struct {
	ID            string   `json:"id"`
	Key           string   `json:"key"`
	ProductID     string   `json:"product_id"`
	LicenseType   string   `json:"license_type"`
	CustomerName  string   `json:"customer_name"`
	CustomerEmail string   `json:"customer_email"`
	CompanyName   string   `json:"company_name"`
	Features      []string `json:"features"`
	ExpiryDate    *string  `json:"expiry_date"`
	MaxUsers      int      `json:"max_users"`
	SeatsUsed     int      `json:"seats_used"`
	Status        string   `json:"status"`
	SigningKeyID  string   `json:"signing_key_id"`
	CreatedAt     string   `json:"created_at"`
	RevokedAt     *string  `json:"revoked_at"`
}

func (a *API) viewLicense(l *store.License) *licenseView {
	if l == nil {
		return nil
	}
	features := []string{}
	// The store holds what Generate encoded; a row that does not decode
	// shows no features rather than failing the reply.
	_ = json.Unmarshal([]byte(l.Features), &features)
	return &licenseView{ID: l.ID, Key: l.Key, ProductID: l.ProductID,
		LicenseType: l.LicenseType, CustomerName: l.CustomerName,
		CustomerEmail: l.CustomerEmail, CompanyName: l.CompanyName, Features: features,
		ExpiryDate: optionalTimestamp(l.ExpiresAt), MaxUsers: l.MaxUsers,
		SeatsUsed: l.SeatsUsed, Status: license.Status(l, a.now()),
		SigningKeyID: l.SigningKeyID, CreatedAt: timestamp(l.CreatedAt),
		RevokedAt: optionalTimestamp(l.RevokedAt)}
}

// licenseRoutes adds the Scythe routes to the authenticated group.
func (a *API) licenseRoutes(authed *gin.RouterGroup) {
	authed.POST("/licenses/generate", a.generateLicense)
	authed.POST("/licenses/validate", a.validateLicense)
	authed.POST("/licenses/activate", a.activateLicense)
	authed.POST("/licenses/deactivate", a.deactivateLicense)
	authed.GET("/licenses", a.listLicenses)
	authed.GET("/licenses/public-key", a.licensePublicKeys)
	authed.POST("/licenses/signing-key/rotate", a.rotateSigningKey)
	authed.GET("/licenses/:id", a.getLicense)
	authed.POST("/licenses/:id/revoke", a.revokeLicense)
}

// generateLicense serves POST /api/licenses/generate: a new license of the
// caller's account, signed with its current signing key. A repeat with the
// same Idempotency-Key within 24 hours answers the first license again.
func (a *API) generateLicense(c *gin.Context) {
	var req license.Request
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	req.IdempotencyKey = c.GetHeader("Idempotency-Key")
	lic, err := a.licenses.Generate(c.Request.Context(), accountFrom(c).ID, req)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"success": true, "license": a.viewLicense(lic)})
}

// listLicenses serves GET /api/licenses: a page of the caller's licenses, or
// of every account's for an admin, filtered by the query.
func (a *API) listLicenses(c *gin.Context) {
	p := pageOf(c)
	f := store.LicenseFilter{AccountID: scopeOf(accountFrom(c)),
		ProductID: c.Query("product_id"), LicenseType: c.Query("license_type"),
		CustomerEmail: c.Query("customer_email"), Status: c.Query("status"), Now: a.now()}
	list, total, err := a.store.Licenses().List(c.Request.Context(), f, p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]*licenseView, len(list))
	for i := range list {
		views[i] = a.viewLicense(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{
		"success": true, "licenses": views, "total": total, "limit": p.Limit, "offset": p.Offset,
	})
}

// activationView is a machine holding a seat.
type activationView struct {
	MachineFingerprint string `json:"machine_fingerprint"`
	MachineName        string `json:"machine_name"`
	ActivatedAt        string `json:"activated_at"`
	LastSeenAt         string `json:"last_seen_at"`
}

func viewActivation(act *store.Activation) activationView {
	return activationView{MachineFingerprint: act.Fingerprint, MachineName: act.MachineName,
		ActivatedAt: timestamp(act.CreatedAt), LastSeenAt: timestamp(act.LastSeenAt)}
}

// getLicense serves GET /api/licenses/{id}: the license and its activations.
func (a *API) getLicense(c *gin.Context) {
	ctx := c.Request.Context()
	lic, err := a.store.Licenses().Get(ctx, scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	acts, err := a.store.Licenses().Activations(ctx, lic.ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]activationView, len(acts))
	for i := range acts {
		views[i] = viewActivation(&acts[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "license": a.viewLicense(lic),
		"activations": views})
}

// revokeLicense serves POST /api/licenses/{id}/revoke.
func (a *API) revokeLicense(c *gin.Context) {
	lic, err := a.licenses.Revoke(c.Request.Context(), scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "license": a.viewLicense(lic)})
}

// licensePublicKeys serves GET /api/licenses/public-key: the caller's
// verification keys, the current one first. The reply, saved as a file, is
// what pkg/scythe and `grim license verify` read.
func (a *API) licensePublicKeys(c *gin.Context) {
	keys, err := a.licenses.PublicKeys(c.Request.Context(), accountFrom(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "current_key_id": keys[0].ID, "keys": keys})
}

// rotateSigningKey serves POST /api/licenses/signing-key/rotate: a new
// signing key of the caller's account signs from now on.
func (a *API) rotateSigningKey(c *gin.Context) {
	k, err := a.licenses.Rotate(c.Request.Context(), accountFrom(c).ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"success": true, "signing_key": k})
}

// licenseError maps the license service's refusals to the envelope: a
// field of the request to 400 VALIDATION_ERROR, a key that is not one of
// the caller's to 400 on license_key, any other refusal to 409 CONFLICT,
// each with the machine-readable reason in details.reason.
func licenseError(err error) (*Error, bool) {
	var field *license.FieldError
	if errors.As(err, &field) {
		return validationError(field.Field, "%s", field.Message), true
	}
	var refused *license.RefusedError
	if !errors.As(err, &refused) {
		return nil, false
	}
	e := &Error{Status: http.StatusConflict, Code: CodeConflict,
		Message: "the license does not allow this: " + refused.Reason,
		Details: map[string]any{"reason": refused.Reason}}
	if refused.Reason == "malformed" || refused.Reason == "invalid_signature" {
		e.Status, e.Code = http.StatusBadRequest, CodeValidation
		e.Message = "license_key is not a valid license key of this account"
		e.Details["field"] = "license_key"
	}
	return e, true
}
