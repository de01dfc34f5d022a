package agenthub

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
)

// ProgressFunc receives a job's progress messages in order.
type ProgressFunc func(*protocol.JobProgress)

// RunJob sends a job to a connected agent on a stream of its own and waits for the
// result, passing progress messages to onProgress (which may be nil). It fails with
// store.ErrAgentUnavailable when the agent has no session here.
func (h *Hub) RunJob(ctx context.Context, agentID string, job *protocol.Job,
	onProgress ProgressFunc) (*protocol.JobResult, error) {
	s := h.session(agentID)
	if s == nil {
		return nil, store.ErrAgentUnavailable
	}
	st, err := s.conn.OpenStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("open job stream: %w: %w", store.ErrAgentUnavailable, err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, st.Reset)
	defer stop()

	if err := protocol.NewEncoder(st).Encode(job); err != nil {
		return nil, fmt.Errorf("send job: %w", err)
	}
	dec := protocol.NewDecoder(st)
	for {
		msg, err := dec.Decode()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("job %s: %w", job.ID, err)
		}
		switch m := msg.(type) {
		case *protocol.JobProgress:
			if onProgress != nil {
				onProgress(m)
			}
		case *protocol.JobResult:
			return m, nil
		case *protocol.Error:
			return nil, fmt.Errorf("job %s: agent error %s: %s", job.ID, m.Code, m.Message)
		default:
			return nil, fmt.Errorf("job %s: unexpected message %s", job.ID, msg.Type())
		}
	}
}

// Ping runs a ping job on the agent, records the round-trip time on the agent's record
// and returns it. An agent of another account is not found.
func (h *Hub) Ping(ctx context.Context, accountID, agentID string) (time.Duration, error) {
	if _, err := h.store.Agents().ByID(ctx, accountID, agentID); err != nil {
		return 0, err
	}
	return h.ping(ctx, agentID)
}

func (h *Hub) ping(ctx context.Context, agentID string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	payload, err := json.Marshal(map[string]time.Time{"sent_at": h.cfg.Now()})
	if err != nil {
		return 0, fmt.Errorf("encode ping: %w", err)
	}
	job := &protocol.Job{ID: store.NewID("job"), Kind: protocol.JobKindPing, Payload: payload}
	start := time.Now()
	res, err := h.RunJob(ctx, agentID, job, nil)
	if err != nil {
		return 0, err
	}
	rtt := time.Since(start)
	if !res.OK {
		return 0, fmt.Errorf("ping: agent replied %q", res.Error)
	}
	ms := float64(rtt.Microseconds()) / 1000
	if err := h.store.Agents().SetRTT(ctx, agentID, ms); err != nil {
		return 0, fmt.Errorf("record round trip: %w", err)
	}
	return rtt, nil
}

// measureRTT pings a freshly connected agent once, so its record shows a round-trip time
// without anyone asking.
func (h *Hub) measureRTT(ctx context.Context, s *session) {
	if _, err := h.ping(ctx, s.agentID); err != nil {
		s.log.Debug("first ping failed", "error", err)
	}
}

// Revoke forgets an agent: its certificate stops being accepted at once and its session,
// if it has one here, is closed.
func (h *Hub) Revoke(ctx context.Context, accountID, agentID string) error {
	if err := h.store.Agents().Revoke(ctx, accountID, agentID); err != nil {
		return err
	}
	if s := h.session(agentID); s != nil {
		s.conn.Close()
	}
	h.log.Info("agent revoked", "agent_id", agentID)
	return nil
}
