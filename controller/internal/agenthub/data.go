package agenthub

import (
	"context"
	"time"

	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/transport"
)

// Peer is the authenticated agent at the other end of a data stream.
type Peer struct {
	AgentID   string
	AccountID string
}

// DataHandler serves the data streams an agent opens for a job: it checks that the job is
// the agent's and runs the stream's requests until the agent closes it. dec reuses its
// buffer: a message's bytes are the handler's only until it decodes the next.
type DataHandler interface {
	ServeData(ctx context.Context, peer Peer, open *protocol.DataOpen, st transport.Stream,
		enc *protocol.Encoder, dec *protocol.Decoder)
}

// SetDataHandler sets who serves agents' data streams. Call it before Start.
func (h *Hub) SetDataHandler(d DataHandler) { h.data = d }

// serveAgentStreams accepts the streams an agent opens during its session, each of which
// must start with DataOpen, until the connection ends.
func (h *Hub) serveAgentStreams(ctx context.Context, s *session) {
	for {
		st, err := s.conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer st.Close()
			h.serveDataStream(ctx, s, st)
		}()
	}
}

func (h *Hub) serveDataStream(ctx context.Context, s *session, st transport.Stream) {
	enc, dec := protocol.NewEncoder(st), protocol.NewDecoder(st)
	// A data stream's blobs are stored or refused before the next frame is read (see
	// DataHandler).
	dec.ReuseBuffer()
	_ = st.SetDeadline(time.Now().Add(firstMessageTimeout))
	open, err := protocol.Expect[*protocol.DataOpen](dec)
	if err != nil {
		s.log.Info("bad data stream", "error", err)
		refuse(enc, protocol.ErrCodeBadMessage, "expected data_open")
		return
	}
	_ = st.SetDeadline(time.Time{})
	if h.data == nil {
		refuse(enc, protocol.ErrCodeInternal, "no data service")
		return
	}
	stop := context.AfterFunc(ctx, st.Reset)
	defer stop()
	h.data.ServeData(ctx, Peer{AgentID: s.agentID, AccountID: s.accountID}, open, st, enc, dec)
}

// Connected lists the ids of the agents with a session on this controller.
func (h *Hub) Connected() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.sessions))
	for id := range h.sessions {
		ids = append(ids, id)
	}
	return ids
}
