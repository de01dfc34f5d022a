package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/internal/buildinfo"
	"github.com/grim-reaper/grim/protocol"
)

// noAgentService answers agent operations when the controller runs
// without an agent hub.
func noAgentService() *Error {
	return &Error{
		Status:  http.StatusServiceUnavailable,
		Code:    CodeAgentUnavailable,
		Message: "the agent service is not running",
	}
}

// agentView is an agent as replies show it.
type agentView struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Hostname  string   `json:"hostname"`
	Version   string   `json:"version"`
	Outdated  bool     `json:"outdated"`
	OS        string   `json:"os"`
	Arch      string   `json:"arch"`
	Status    string   `json:"status"`
	LastSeen  *string  `json:"last_seen"`
	Transport string   `json:"transport"`
	RTTMillis *float64 `json:"rtt_ms"`
	// Capabilities are the database tools the agent reported, absent until it does.
	Capabilities *protocol.Capabilities `json:"capabilities,omitempty"`
	CreatedAt    string                 `json:"created_at"`
}

func (a *API) viewAgent(ag *store.Agent) agentView {
	var caps *protocol.Capabilities
	if ag.Capabilities != "" {
		caps = new(protocol.Capabilities)
		if err := json.Unmarshal([]byte(ag.Capabilities), caps); err != nil {
			caps = nil
		}
	}
	return agentView{
		Capabilities: caps,
		ID:           ag.ID,
		Name:         ag.Name,
		Hostname:     ag.Hostname,
		Version:      ag.Version,
		Outdated:     buildinfo.Older(ag.Version, a.version),
		OS:           ag.OS,
		Arch:         ag.Arch,
		Status:       a.agentStatus(ag),
		LastSeen:     optionalTimestamp(ag.LastSeen),
		Transport:    ag.Transport,
		RTTMillis:    ag.RTTMillis,
		CreatedAt:    timestamp(ag.CreatedAt),
	}
}

// agentStatus is "online" when this controller holds the agent's
// connection, or when the store says online (another controller may hold
// it) and the agent was seen recently; "offline" otherwise.
func (a *API) agentStatus(ag *store.Agent) string {
	if a.agents != nil && a.agents.Online(ag.ID) {
		return store.StatusOnline
	}
	recent := ag.LastSeen != nil && a.now().Sub(*ag.LastSeen) <= a.offlineAfter
	if ag.Status == store.StatusOnline && recent {
		return store.StatusOnline
	}
	return store.StatusOffline
}

// listAgents serves GET /api/agents.
func (a *API) listAgents(c *gin.Context) {
	p := pageOf(c)
	agents, total, err := a.store.Agents().List(c.Request.Context(), scopeOf(accountFrom(c)),
		p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]agentView, len(agents))
	for i := range agents {
		views[i] = a.viewAgent(&agents[i])
	}
	c.JSON(http.StatusOK, gin.H{
		"success": true, "agents": views, "total": total, "limit": p.Limit, "offset": p.Offset,
	})
}

// visibleAgent returns the agent of the path's id if the caller may see
// it; another account's agent is ErrNotFound, as an unknown one.
func (a *API) visibleAgent(c *gin.Context) (*store.Agent, error) {
	return a.store.Agents().ByID(c.Request.Context(), scopeOf(accountFrom(c)), c.Param("id"))
}

// getAgent serves GET /api/agents/{id}.
func (a *API) getAgent(c *gin.Context) {
	ag, err := a.visibleAgent(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "agent": a.viewAgent(ag)})
}

// deleteAgent serves DELETE /api/agents/{id}: the agent is revoked and
// disconnected.
func (a *API) deleteAgent(c *gin.Context) {
	ag, err := a.visibleAgent(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if a.agents == nil {
		a.fail(c, noAgentService())
		return
	}
	if err := a.agents.Revoke(c.Request.Context(), ag.AccountID, ag.ID); err != nil {
		a.fail(c, err)
		return
	}
	a.log.InfoContext(c.Request.Context(), "agent revoked", "request_id", requestID(c),
		"account_id", ag.AccountID, "agent_id", ag.ID, "by_account_id", accountFrom(c).ID)
	c.JSON(http.StatusOK, gin.H{"success": true})
}

// pingAgent serves POST /api/agents/{id}/ping: the round-trip time to a
// connected agent, or 503 AGENT_UNAVAILABLE.
func (a *API) pingAgent(c *gin.Context) {
	ag, err := a.visibleAgent(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if a.agents == nil {
		a.fail(c, noAgentService())
		return
	}
	rtt, err := a.agents.Ping(c.Request.Context(), ag.AccountID, ag.ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"success": true, "agent_id": ag.ID, "rtt_ms": float64(rtt.Microseconds()) / 1000,
	})
}
