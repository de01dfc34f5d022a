package api

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// OAuth grant types a client may be registered for. The implicit and the
// password grants do not exist here.
const (
	grantCode              = "authorization_code"
	grantRefresh           = "refresh_token"
	grantClientCredentials = "client_credentials"
)

// createClientRequest is the body of POST /api/oauth/clients.
type createClientRequest struct {
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Public       bool     `json:"public"`
}

// clientView is an OAuth client as replies show it. The secret is there
// only in the reply that creates it.
type clientView struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	CreatedAt    string   `json:"created_at"`
}

func viewClient(cl *store.OAuthClient) clientView {
	v := clientView{ClientID: cl.ID, Name: cl.Name, Public: cl.Public,
		GrantTypes: strings.Split(cl.GrantTypes, ","), Scopes: strings.Split(cl.Scopes, ","),
		CreatedAt: timestamp(cl.CreatedAt), RedirectURIs: []string{}}
	_ = json.Unmarshal([]byte(cl.RedirectURIs), &v.RedirectURIs)
	return v
}

// createClient serves POST /api/oauth/clients: a confidential client gets
// a secret, shown once as client.client_secret; a public client gets none
// and must use PKCE.
func (a *API) createClient(c *gin.Context) {
	var req createClientRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	cl, err := a.newClient(req)
	if err != nil {
		a.fail(c, err)
		return
	}
	cl.AccountID = accountFrom(c).ID
	var secret string
	if !cl.Public {
		var hash string
		secret, _, hash, err = auth.NewToken(auth.KindSecret)
		if err != nil {
			a.fail(c, err)
			return
		}
		cl.SecretHash = &hash
	}
	if err := a.store.OAuthClients().Create(c.Request.Context(), cl); err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventClientCreated, cl.AccountID, map[string]any{"client_id": cl.ID,
		"public": cl.Public, "grant_types": cl.GrantTypes})
	v := viewClient(cl)
	v.ClientSecret = secret
	c.JSON(http.StatusCreated, gin.H{"success": true, "client": v})
}

// newClient checks req and returns the client it asks for, without owner
// or secret.
func (a *API) newClient(req createClientRequest) (*store.OAuthClient, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" || strings.ContainsFunc(name, unicode.IsControl) {
		return nil, validationError("name", "name must be non-blank text")
	}
	grants := req.GrantTypes
	if len(grants) == 0 {
		grants = []string{grantCode, grantRefresh}
	}
	slices.Sort(grants)
	grants = slices.Compact(grants)
	if req.Public && slices.Contains(grants, grantClientCredentials) {
		return nil, validationError("grant_types",
			"a public client cannot use client_credentials: it has no secret")
	}
	if slices.Contains(grants, grantCode) && len(req.RedirectURIs) == 0 {
		return nil, validationError("redirect_uris",
			"authorization_code needs at least one redirect URI")
	}
	for i, u := range req.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, validationError("redirect_uris["+itoa(i)+"]", "%s", err.Error())
		}
	}
	scopes, err := parseScopes(strings.Join(req.Scopes, " "), auth.ScopeFull)
	if err != nil {
		return nil, validationError("scopes", "%s", err.Error())
	}
	uris, err := json.Marshal(slices.Compact(slices.Clone(req.RedirectURIs)))
	if err != nil {
		return nil, err
	}
	return &store.OAuthClient{Name: name, Public: req.Public, RedirectURIs: string(uris),
		GrantTypes: strings.Join(grants, ","), Scopes: scopes, CreatedAt: a.now()}, nil
}

// checkRedirectURI accepts what OAuth 2.1 allows: an absolute https URI, an
// http URI on a loopback address, or a native app's private-use scheme
// (one holding a dot, such as com.example.app:/cb); never a fragment.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(raw, "#") {
		return errorString("each redirect URI must be absolute, without a fragment")
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case strings.Contains(u.Scheme, ".") && u.Scheme != "http" && u.Scheme != "https":
		return nil
	}
	return errorString("a redirect URI must be https, http on a loopback address, " +
		"or a private-use scheme such as com.example.app")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listClients serves GET /api/oauth/clients: the caller's clients, or
// every account's for an admin.
func (a *API) listClients(c *gin.Context) {
	p := pageOf(c)
	list, total, err := a.store.OAuthClients().List(c.Request.Context(),
		scopeOf(accountFrom(c)), p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]clientView, len(list))
	for i := range list {
		views[i] = viewClient(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "clients": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}

// deleteClient serves DELETE /api/oauth/clients/{id}: the client and every
// token it holds stop working at once.
func (a *API) deleteClient(c *gin.Context) {
	acct, id := accountFrom(c), c.Param("id")
	err := a.store.OAuthClients().Revoke(c.Request.Context(), scopeOf(acct), id, a.now())
	if err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventClientRevoked, acct.ID, map[string]any{"client_id": id})
	c.JSON(http.StatusOK, gin.H{"success": true})
}
