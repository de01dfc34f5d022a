package agenthub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/grim-reaper/grim/controller/internal/pki"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/transport"
)

// firstMessageTimeout bounds how long a new connection may take to say who it is.
const firstMessageTimeout = 10 * time.Second

// session is one connected, authenticated agent.
type session struct {
	agentID   string
	accountID string
	conn      transport.Conn
	log       *slog.Logger
}

// serveConn reads the first message on the connection's first stream and either enrols a
// new agent or runs a session for an enrolled one.
func (h *Hub) serveConn(ctx context.Context, conn transport.Conn) {
	defer conn.Close()
	log := h.log.With("remote_addr", conn.RemoteAddr().String(), "transport", conn.Transport())

	actx, cancel := context.WithTimeout(ctx, firstMessageTimeout)
	st, err := conn.AcceptStream(actx)
	cancel()
	if err != nil {
		log.Debug("no control stream", "error", err)
		return
	}
	defer linger(conn, st)
	_ = st.SetDeadline(time.Now().Add(firstMessageTimeout))
	enc, dec := protocol.NewEncoder(st), protocol.NewDecoder(st)
	msg, err := dec.Decode()
	if err != nil {
		log.Info("agent sent a bad first message", "error", err)
		refuse(enc, protocol.ErrCodeBadMessage, "bad first message")
		return
	}
	_ = st.SetDeadline(time.Time{})

	switch m := msg.(type) {
	case *protocol.EnrollRequest:
		h.enroll(ctx, enc, m, log)
	case *protocol.Hello:
		h.runSession(ctx, conn, st, enc, dec, m, log)
	default:
		log.Info("agent sent an unexpected first message", "type", msg.Type().String())
		refuse(enc, protocol.ErrCodeBadMessage, "expected hello or enroll request")
	}
}

// lingerTimeout bounds how long a connection that got its last reply is kept open.
const lingerTimeout = 5 * time.Second

// linger ends our side of the stream and waits a little for the peer to close the
// connection. Closing a QUIC connection at once would drop a last reply that the peer has
// not yet acknowledged, such as an enrolment response or the error that explains a refusal.
func linger(conn transport.Conn, st transport.Stream) {
	st.Close()
	select {
	case <-conn.Done():
	case <-time.After(lingerTimeout):
	}
}

// refuse sends an error message before the caller closes the connection. Its own failure
// changes nothing: the connection is going away either way.
func refuse(enc *protocol.Encoder, code, message string) {
	_ = enc.Encode(&protocol.Error{Code: code, Message: message})
}

// runSession authenticates an enrolled agent by its client certificate, registers the
// session and answers heartbeats until the agent goes away.
func (h *Hub) runSession(ctx context.Context, conn transport.Conn, st transport.Stream,
	enc *protocol.Encoder, dec *protocol.Decoder, hello *protocol.Hello, log *slog.Logger) {
	agent, err := h.authenticate(ctx, conn)
	if err != nil {
		log.Info("agent refused", "error", err)
		refuse(enc, protocol.ErrCodeUnauthorized, "unknown or revoked agent certificate")
		return
	}
	log = log.With("agent_id", agent.ID, "agent_name", agent.Name)
	version, err := protocol.Negotiate(hello.ProtocolMin, hello.ProtocolMax)
	if err != nil {
		log.Info("agent protocol version unsupported", "error", err)
		refuse(enc, protocol.ErrCodeVersion, err.Error())
		return
	}

	s := &session{agentID: agent.ID, accountID: agent.AccountID, conn: conn, log: log}
	if !h.register(s) {
		return
	}
	defer h.unregister(s)

	// Tools first: once the agent shows online, what it can do is known.
	if caps, err := json.Marshal(hello.Capabilities); err == nil && hello.Capabilities != nil {
		if err := h.store.Agents().SetCapabilities(ctx, agent.ID, string(caps)); err != nil {
			log.Warn("record agent capabilities", "error", err)
		}
	}
	now := h.cfg.Now()
	if err := h.store.Agents().MarkOnline(ctx, agent.ID, conn.Transport(), hello.AgentVersion,
		hello.Hostname, now); err != nil {
		log.Error("mark agent online", "error", err)
		return
	}
	ack := &protocol.HelloAck{
		Protocol: version, AgentID: agent.ID, AgentName: agent.Name,
		ControllerVersion: h.cfg.Version, HeartbeatSeconds: int(h.cfg.Heartbeat / time.Second),
	}
	if err := enc.Encode(ack); err != nil {
		log.Info("send hello ack", "error", err)
		return
	}
	log.Info("agent connected", "version", hello.AgentVersion, "protocol", version)
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		h.measureRTT(ctx, s)
	}()
	go func() {
		defer h.wg.Done()
		h.serveAgentStreams(ctx, s)
	}()
	h.heartbeats(ctx, s, st, enc, dec)
}

// authenticate maps the connection's verified client certificate to a live agent record.
func (h *Hub) authenticate(ctx context.Context, conn transport.Conn) (*store.Agent, error) {
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("no client certificate")
	}
	cert := certs[0]
	agent, err := h.store.Agents().ByCertSerial(ctx, pki.SerialString(cert.SerialNumber))
	if err != nil {
		return nil, fmt.Errorf("look up agent certificate: %w", err)
	}
	if agent.RevokedAt != nil || agent.ID != cert.Subject.CommonName {
		return nil, errors.New("agent revoked or certificate mismatch")
	}
	return agent, nil
}

// heartbeats answers the agent's heartbeats on the control stream. The agent is considered
// gone when the stream ends, the connection drops, or no heartbeat comes for three periods.
func (h *Hub) heartbeats(ctx context.Context, s *session, st transport.Stream,
	enc *protocol.Encoder, dec *protocol.Decoder) {
	for {
		_ = st.SetDeadline(time.Now().Add(3 * h.cfg.Heartbeat))
		msg, err := dec.Decode()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Info("agent disconnected", "error", err)
			}
			return
		}
		hb, ok := msg.(*protocol.Heartbeat)
		if !ok {
			s.log.Info("unexpected message on control stream", "type", msg.Type().String())
			refuse(enc, protocol.ErrCodeBadMessage, "expected heartbeat")
			return
		}
		if err := h.seen(ctx, s); err != nil {
			s.log.Info("ending session", "reason", err.Error())
			refuse(enc, protocol.ErrCodeUnauthorized, "agent revoked")
			return
		}
		if err := enc.Encode(&protocol.HeartbeatAck{Seq: hb.Seq}); err != nil {
			return
		}
	}
}

// seen records a heartbeat and ends sessions of agents revoked through another controller
// that shares the database.
func (h *Hub) seen(ctx context.Context, s *session) error {
	agent, err := h.store.Agents().ByID(ctx, "", s.agentID)
	if err != nil {
		return fmt.Errorf("load agent: %w", err)
	}
	if agent.RevokedAt != nil {
		return errors.New("agent revoked")
	}
	if err := h.store.Agents().Seen(ctx, s.agentID, h.cfg.Now()); err != nil {
		return fmt.Errorf("record heartbeat: %w", err)
	}
	return nil
}

// register adds a session, replacing (and closing) an older one of the same agent, which
// is what a reconnect after a silent network drop looks like.
func (h *Hub) register(s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if old := h.sessions[s.agentID]; old != nil {
		old.conn.Close()
	}
	h.sessions[s.agentID] = s
	return true
}

func (h *Hub) unregister(s *session) {
	h.mu.Lock()
	current := h.sessions[s.agentID] == s
	if current {
		delete(h.sessions, s.agentID)
	}
	h.mu.Unlock()
	s.conn.Close()
	if !current {
		return
	}
	// The hub may be closing; the offline mark must still reach the database.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.store.Agents().MarkOffline(ctx, s.agentID, h.cfg.Now()); err != nil {
		s.log.Warn("mark agent offline", "error", err)
	}
	s.log.Info("agent session ended")
}

func (h *Hub) session(agentID string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[agentID]
}

// Online reports whether the agent has a live session on this controller.
func (h *Hub) Online(agentID string) bool { return h.session(agentID) != nil }
