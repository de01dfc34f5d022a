package api

import (
	"strings"
	"time"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// grant is what a set of tokens is issued for.
type grant struct {
	accountID string
	clientID  string // "" for the dashboard's own sign-in
	scopes    string // comma-separated
	familyID  string
	refresh   bool // whether a refresh token goes with the access token
	// ttl is the access token's lifetime; zero means the API's access token TTL.
	ttl time.Duration
}

// tokenReply is the body of a token reply, as RFC 6749 section 5.1 has it,
// plus the contract's success flag.
type tokenReply struct {
	Success      bool   `json:"success"`
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// mintTokens makes the tokens of g: the reply with the secrets, and the
// rows to store, which hold only hashes.
func (a *API) mintTokens(g grant) (*tokenReply, []*store.AuthToken, error) {
	now := a.now()
	ttl := g.ttl
	if ttl <= 0 {
		ttl = a.accessTTL
	}
	var client *string
	if g.clientID != "" {
		client = &g.clientID
	}
	full, prefix, hash, err := auth.NewToken(auth.KindAccess)
	if err != nil {
		return nil, nil, err
	}
	rows := []*store.AuthToken{{AccountID: g.accountID, ClientID: client, Kind: store.TokenAccess,
		Prefix: prefix, Hash: hash, Scopes: g.scopes, FamilyID: g.familyID,
		ExpiresAt: now.Add(ttl), CreatedAt: now}}
	reply := &tokenReply{Success: true, AccessToken: full, TokenType: "Bearer",
		ExpiresIn: int64(ttl / time.Second), Scope: strings.ReplaceAll(g.scopes, ",", " ")}
	if !g.refresh {
		return reply, rows, nil
	}
	full, prefix, hash, err = auth.NewToken(auth.KindRefresh)
	if err != nil {
		return nil, nil, err
	}
	rows = append(rows, &store.AuthToken{AccountID: g.accountID, ClientID: client,
		Kind: store.TokenRefresh, Prefix: prefix, Hash: hash, Scopes: g.scopes,
		FamilyID: g.familyID, ExpiresAt: now.Add(a.refreshTTL), CreatedAt: now})
	reply.RefreshToken = full
	return reply, rows, nil
}
