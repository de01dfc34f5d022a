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
