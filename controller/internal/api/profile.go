package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	// The zone database is embedded so that time zones check the same on a
	// host without /usr/share/zoneinfo, as static binaries often run.
	_ "time/tzdata"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// notificationPrefs are the events an account wants to hear about.
type notificationPrefs struct {
	Email            bool `json:"email"`
	BackupCompleted  bool `json:"backup_completed"`
	BackupFailed     bool `json:"backup_failed"`
	RestoreCompleted bool `json:"restore_completed"`
	RestoreFailed    bool `json:"restore_failed"`
	SystemAlert      bool `json:"system_alert"`
}

// profileView is the caller's own account as the profile routes show it.
type profileView struct {
	userView
	Company       string            `json:"company"`
	Timezone      string            `json:"timezone"`
	Notifications notificationPrefs `json:"notifications"`
}

func viewProfile(acct *store.Account) profileView {
	v := profileView{userView: viewUser(acct), Company: acct.Company, Timezone: acct.Timezone}
	_ = json.Unmarshal([]byte(acct.Notifications), &v.Notifications)
	return v
}

// profileRequest is the body of PUT /api/user/profile; absent fields keep
// their values.
type profileRequest struct {
	Name          *string            `json:"name"`
	Company       *string            `json:"company"`
	Timezone      *string            `json:"timezone"`
	Notifications *notificationPrefs `json:"notifications"`
}

// getProfile serves GET /api/user/profile.
func (a *API) getProfile(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"success": true, "user": viewProfile(accountFrom(c))})
}

// putProfile serves PUT /api/user/profile.
func (a *API) putProfile(c *gin.Context) {
	var req profileRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	p, err := mergeProfile(viewProfile(accountFrom(c)), req)
	if err != nil {
		a.fail(c, err)
		return
	}
	acct, err := a.store.Accounts().UpdateProfile(c.Request.Context(), accountFrom(c).ID, p,
		a.now())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "user": viewProfile(acct)})
}

// mergeProfile applies req to the current profile and checks the result.
func mergeProfile(cur profileView, req profileRequest) (store.Profile, error) {
	if req.Name != nil {
		cur.Name = strings.TrimSpace(*req.Name)
	}
	if req.Company != nil {
		cur.Company = strings.TrimSpace(*req.Company)
	}
	if req.Timezone != nil {
		cur.Timezone = *req.Timezone
	}
	if req.Notifications != nil {
		cur.Notifications = *req.Notifications
	}
	for field, v := range map[string]string{"name": cur.Name, "company": cur.Company} {
		if strings.ContainsFunc(v, unicode.IsControl) {
			return store.Profile{}, validationError(field, "%s must not hold control characters",
				field)
		}
	}
	if _, err := time.LoadLocation(cur.Timezone); err != nil || cur.Timezone == "" ||
		cur.Timezone == "Local" {
		return store.Profile{}, validationError("timezone",
			"timezone must be an IANA time zone such as Europe/Berlin")
	}
	raw, err := json.Marshal(cur.Notifications)
	if err != nil {
		return store.Profile{}, err
	}
	return store.Profile{Name: cur.Name, Company: cur.Company, Timezone: cur.Timezone,
		Notifications: string(raw)}, nil
}

// passwordRequest is the body of POST /api/user/password.
type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword serves POST /api/user/password: with the current password
// right, the new one replaces it, and every other session and refresh
// token of the account ends. The caller's own session, if it signed in,
// goes on.
func (a *API) changePassword(c *gin.Context) {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	p := principalFrom(c)
	ctx := c.Request.Context()
	checks := loginChecks(c, p.account.Email)[:1]
	if err := a.notThrottled(c, checks); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.checkCurrentPassword(c, checks, p.account, req.CurrentPassword); err != nil {
		a.fail(c, err)
		return
	}
	if n := len(req.NewPassword); n < auth.MinPasswordLen || n > auth.MaxPasswordLen {
		a.fail(c, validationError("new_password", "new_password must be %d to %d characters",
			auth.MinPasswordLen, auth.MaxPasswordLen))
		return
	}
	hash, err := auth.HashPassword(req.NewPassword)
	if err == nil {
		err = a.store.ChangePassword(ctx, p.account.ID, hash, p.familyID, a.now())
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventPasswordChanged, p.account.ID, nil)
	a.log.InfoContext(ctx, "password changed", "request_id", requestID(c),
		"account_id", p.account.ID)
	c.JSON(http.StatusOK, gin.H{"success": true})
}

// checkCurrentPassword answers a validation error, counted as a failed
// sign-in, unless password is acct's. An account that has no password yet
// (one made before the dashboard, reached with its API key) sets its first
// with an empty current_password.
func (a *API) checkCurrentPassword(c *gin.Context, checks []throttleCheck,
	acct *store.Account, password string,
) error {
	if acct.PasswordHash == nil && password == "" {
		return nil
	}
	stored := a.dummyPasswordHash()
	if acct.PasswordHash != nil {
		stored = *acct.PasswordHash
	}
	ok, err := auth.CheckPassword(stored, password)
	if err != nil {
		return err
	}
	if ok && acct.PasswordHash != nil {
		return nil
	}
	if err := a.failed(c, checks); err != nil {
		return err
	}
	a.audit(c, eventLoginFailed, acct.ID, map[string]any{"during": "password change"})
	return validationError("current_password", "current_password is wrong")
}
