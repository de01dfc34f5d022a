package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// Sign-in throttling: failures counted per account (by email, known or
// not) and per client address in shared fixed windows.
const (
	loginWindow              = 15 * time.Minute
	maxLoginFailuresPerEmail = 10
	maxLoginFailuresPerAddr  = 50
)

// badLogin is the one answer for a wrong email, a wrong password and a
// disabled account alike.
var badLogin = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
	Message: "the email or the password is wrong"}

// loginRequest is the body of POST /api/auth/login.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// loginReply is the token reply of a sign-in, with the account.
type loginReply struct {
	tokenReply
	User userView `json:"user"`
}

// login serves POST /api/auth/login: sign-in with email and password for programs,
// answered with a short-lived access token and a refresh token. It says the same thing
// whichever of email and password is wrong.
func (a *API) login(c *gin.Context) {
	acct, err := a.verifyLogin(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	reply, _, err := a.openSession(c, acct, grant{refresh: true})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, loginReply{tokenReply: *reply, User: viewUser(acct)})
}

// openSession mints and stores the tokens of a new sign-in session of acct, with full
// scope and the lifetimes of g, and records the sign-in; a session without a refresh
// token is the dashboard's. It returns the reply with the secrets and the stored access
// token.
func (a *API) openSession(c *gin.Context, acct *store.Account, g grant) (
	*tokenReply, *store.AuthToken, error,
) {
	g.accountID, g.scopes, g.familyID = acct.ID, auth.ScopeFull, store.NewID("ses")
	reply, rows, err := a.mintTokens(g)
	if err == nil {
		err = a.store.AuthTokens().Create(c.Request.Context(), rows...)
	}
	if err != nil {
		return nil, nil, err
	}
	a.audit(c, eventLoginSucceeded, acct.ID, map[string]any{"session_id": g.familyID,
		"dashboard": !g.refresh})
	return reply, rows[0], nil
}

// verifyLogin decodes a sign-in body and checks its email and password under the
// sign-in throttles. It returns the enabled account they name, or the error to answer;
// a failure has then been counted and recorded.
func (a *API) verifyLogin(c *gin.Context) (*store.Account, error) {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	checks := loginChecks(c, email)
	if err := a.notThrottled(c, checks); err != nil {
		return nil, err
	}
	acct, ok, err := a.checkLogin(c.Request.Context(), email, req.Password)
	if err != nil {
		return nil, err
	}
	if !ok || acct.Disabled {
		return nil, a.loginFailed(c, checks, acct)
	}
	return acct, nil
}

// throttleCheck is one throttle key and the failures it may have had.
type throttleCheck struct {
	key string
	max int64
}

// loginChecks are the sign-in throttles of email from the caller's address.
func loginChecks(c *gin.Context, email string) []throttleCheck {
	return []throttleCheck{
		{key: "login:email:" + auth.Hash(email), max: maxLoginFailuresPerEmail},
		{key: "login:addr:" + c.ClientIP(), max: maxLoginFailuresPerAddr},
	}
}

// notThrottled answers 429 when any check's key has too many recent
// failures.
func (a *API) notThrottled(c *gin.Context, checks []throttleCheck) error {
	for _, ch := range checks {
		wait, err := a.throttle.Blocked(c.Request.Context(), ch.key, ch.max)
		if err != nil {
			return err
		}
		if wait > 0 {
			event := eventLoginThrottled
			if strings.HasPrefix(ch.key, "oauth:") {
				event = eventClientThrottled
			}
			a.audit(c, event, "", nil)
			return throttled(c, wait)
		}
	}
	return nil
}

// failed counts one failure against every check's key.
func (a *API) failed(c *gin.Context, checks []throttleCheck) error {
	for _, ch := range checks {
		if err := a.throttle.Fail(c.Request.Context(), ch.key); err != nil {
			return err
		}
	}
	return nil
}

// throttled is the 429 for a caller that must wait.
func throttled(c *gin.Context, wait time.Duration) *Error {
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	c.Header(HeaderRetryAfter, strconv.FormatInt(secs, 10))
	return &Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited,
		Message: "too many failed attempts; retry later",
		Details: map[string]any{"retry_after_seconds": secs}}
}

// checkLogin returns the account of email, nil if there is none, and
// whether password is its password. An unknown email costs the same
// hashing as a known one, so timing does not tell them apart.
func (a *API) checkLogin(ctx context.Context, email, password string) (
	*store.Account, bool, error,
) {
	acct, err := a.store.Accounts().ByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	stored := a.dummyPasswordHash()
	if acct != nil && acct.PasswordHash != nil {
		stored = *acct.PasswordHash
	}
	ok, err := auth.CheckPassword(stored, password)
	if err != nil {
		return nil, false, err
	}
	return acct, ok && acct != nil && acct.PasswordHash != nil, nil
}

// loginFailed counts the failure against checks, records it and returns the answer.
func (a *API) loginFailed(c *gin.Context, checks []throttleCheck, acct *store.Account) error {
	if err := a.failed(c, checks); err != nil {
		return err
	}
	id := ""
	if acct != nil {
		id = acct.ID
	}
	a.audit(c, eventLoginFailed, id, nil)
	return badLogin
}

// dummyPasswordHash is a hash no password is checked against for real,
// made once per API.
func (a *API) dummyPasswordHash() string {
	a.dummyOnce.Do(func() {
		secret, err := auth.GenerateSecret()
		if err == nil {
			a.dummyHash, err = auth.HashPassword(secret)
		}
		if err != nil {
			// CheckPassword then fails on the unreadable hash, which fails
			// the sign-in; the timing difference is the lesser harm.
			a.dummyHash = ""
		}
	})
	return a.dummyHash
}
