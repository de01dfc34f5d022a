package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/license"
)

// licenseKeyRequest is the body of validate, activate and deactivate.
type licenseKeyRequest struct {
	LicenseKey         string `json:"license_key"`
	ProductID          string `json:"product_id"`
	MachineFingerprint string `json:"machine_fingerprint"`
	MachineName        string `json:"machine_name"`
}

func (r licenseKeyRequest) check(c *gin.Context) license.Check {
	return license.Check{Scope: scopeOf(accountFrom(c)), Key: r.LicenseKey,
		ProductID: r.ProductID, Fingerprint: r.MachineFingerprint}
}

// validateLicense serves POST /api/licenses/validate. A key that is not
// valid is a normal answer, 200 with valid false and the reason; only a
// request of the wrong shape is an error.
func (a *API) validateLicense(c *gin.Context) {
	var req licenseKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	res, err := a.licenses.Validate(c.Request.Context(), req.check(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	reply := gin.H{"success": true, "valid": res.Valid, "license": a.viewLicense(res.License)}
	if !res.Valid {
		reply["reason"] = res.Reason
	}
	c.JSON(http.StatusOK, reply)
}

// activateLicense serves POST /api/licenses/activate: the machine takes a
// seat (201), or keeps the one it holds (200).
func (a *API) activateLicense(c *gin.Context) {
	var req licenseKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	act, err := a.licenses.Activate(c.Request.Context(), req.check(c), req.MachineName)
	if err != nil {
		a.fail(c, err)
		return
	}
	status := http.StatusOK
	if act.Created {
		status = http.StatusCreated
	}
	c.JSON(status, gin.H{"success": true, "license": a.viewLicense(act.License),
		"activation": viewActivation(act.Activation), "created": act.Created})
}

// deactivateLicense serves POST /api/licenses/deactivate: the machine gives
// its seat back. A machine without a seat is not an error.
func (a *API) deactivateLicense(c *gin.Context) {
	var req licenseKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	lic, freed, err := a.licenses.Deactivate(c.Request.Context(), req.check(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "license": a.viewLicense(lic),
		"deactivated": freed})
}
