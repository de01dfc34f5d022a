package api

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// createUserRequest is the body of POST /api/admin/users.
type createUserRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Plan     string `json:"plan"`
}

// userView is an account as replies show it: never its password hash.
type userView struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Plan      string `json:"plan"`
	Role      string `json:"role"`
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"created_at"`
}

func viewUser(a *store.Account) userView {
	return userView{ID: a.ID, Email: a.Email, Name: a.Name, Plan: a.Plan, Role: a.Role,
		Disabled: a.Disabled, CreatedAt: timestamp(a.CreatedAt)}
}

// requireAdmin answers 403 unless the caller is an admin.
func (a *API) requireAdmin(c *gin.Context) {
	if !accountFrom(c).IsAdmin() {
		a.fail(c, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "only an admin may do this"})
		c.Abort()
		return
	}
	c.Next()
}

// createUser serves POST /api/admin/users: a new account with a first API key, shown
// once as "key".
func (a *API) createUser(c *gin.Context) {
	var req createUserRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	acct, err := a.newAccount(req)
	if err != nil {
		a.fail(c, err)
		return
	}
	full, prefix, hash, err := auth.Generate()
	if err != nil {
		a.fail(c, err)
		return
	}
	key := &store.APIKey{Name: "first key", Prefix: prefix, Hash: hash, Scopes: auth.ScopeFull,
		CreatedAt: a.now()}
	ctx := c.Request.Context()
	if err := a.store.CreateAccountWithKey(ctx, acct, key); err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventAccountCreated, acct.ID, map[string]any{"plan": acct.Plan,
		"key_id": key.ID})
	a.log.InfoContext(ctx, "account created", "request_id", requestID(c), "account_id", acct.ID,
		"plan", acct.Plan, "by", accountFrom(c).ID)
	c.JSON(http.StatusCreated, gin.H{"success": true, "user": viewUser(acct), "key": full})
}

func (a *API) newAccount(req createUserRequest) (*store.Account, error) {
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 ||
		strings.ContainsFunc(email, unicode.IsSpace) {
		return nil, validationError("email", "email must be an address such as ops@example.com")
	}
	if n := len(req.Password); n < auth.MinPasswordLen || n > auth.MaxPasswordLen {
		return nil, validationError("password", "password must be %d to %d characters",
			auth.MinPasswordLen, auth.MaxPasswordLen)
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		return nil, err
	}
	plan := req.Plan
	if plan == "" {
		plan = store.PlanFree
	}
	now := a.now()
	return &store.Account{Email: email, Name: strings.TrimSpace(req.Name), PasswordHash: &hash,
		Plan: plan, Role: store.RoleUser, CreatedAt: now, UpdatedAt: now}, nil
}

// updateUserRequest is the body of PUT /api/admin/users/{id}.
type updateUserRequest struct {
	Plan     *string `json:"plan"`
	Disabled *bool   `json:"disabled"`
}

// updateUser serves PUT /api/admin/users/{id}: the admin changes an
// account's plan or disables it. A disabled account's keys and tokens stop
// working at once. The admin cannot disable their own account.
func (a *API) updateUser(c *gin.Context) {
	var req updateUserRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	id := c.Param("id")
	if req.Disabled != nil && *req.Disabled && id == accountFrom(c).ID {
		a.fail(c, validationError("disabled", "an admin cannot disable their own account"))
		return
	}
	ctx := c.Request.Context()
	before, err := a.store.Accounts().ByID(ctx, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	acct, err := a.store.ApplyAdminChange(ctx, id,
		store.AdminChange{Plan: req.Plan, Disabled: req.Disabled}, a.now())
	if err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventAccountChanged, id, map[string]any{
		"plan_before": before.Plan, "plan": acct.Plan,
		"disabled_before": before.Disabled, "disabled": acct.Disabled})
	a.log.InfoContext(ctx, "account changed", "request_id", requestID(c), "account_id", id,
		"plan", acct.Plan, "disabled", acct.Disabled, "by", accountFrom(c).ID)
	c.JSON(http.StatusOK, gin.H{"success": true, "user": viewUser(acct)})
}

// listUsers serves GET /api/admin/users: a page of every account.
func (a *API) listUsers(c *gin.Context) {
	p := pageOf(c)
	accts, total, err := a.store.Accounts().List(c.Request.Context(), p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]userView, len(accts))
	for i := range accts {
		views[i] = viewUser(&accts[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "users": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}
