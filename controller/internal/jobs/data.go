package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/grim-reaper/grim/controller/internal/agenthub"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/transport"
)

// ServeData serves one data stream of a job running here. The job must be this agent's;
// the account is the job's, never anything the agent says. Agents can only add blobs and
// read their own account's: nothing on a data stream deletes or overwrites stored data.
func (r *Runner) ServeData(ctx context.Context, peer agenthub.Peer, open *protocol.DataOpen,
	st transport.Stream, enc *protocol.Encoder, dec *protocol.Decoder) {
	j := r.lookup(open.JobID)
	if j == nil || j.agentID != peer.AgentID || j.accountID != peer.AccountID {
		_ = enc.Encode(&protocol.Error{Code: protocol.ErrCodeUnauthorized,
			Message: "no such job running for this agent"})
		return
	}
	if err := enc.Encode(&protocol.DataOpenAck{}); err != nil {
		return
	}
	log := r.log.With("job_id", j.id, "agent_id", j.agentID)
	for {
		msg, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			log.Debug("data stream ended", "error", err)
			return
		}
		if err := r.serveRequest(ctx, j, msg, enc); err != nil {
			log.Info("data stream request failed", "type", msg.Type().String(), "error", err)
			_ = enc.Encode(&protocol.Error{Code: protocol.ErrCodeInternal, Message: err.Error()})
			return
		}
	}
}

func (r *Runner) serveRequest(ctx context.Context, j *activeJob, msg protocol.Message,
	enc *protocol.Encoder) error {
	switch m := msg.(type) {
	case *protocol.MissingRequest:
		if len(m.IDs) > protocol.MaxBatch {
			return fmt.Errorf("batch of %d ids is over %d", len(m.IDs), protocol.MaxBatch)
		}
		missing, err := r.blobs.Missing(ctx, j.accountID, m.IDs)
		if err != nil {
			return errors.New("index lookup failed")
		}
		return enc.Encode(&protocol.MissingResponse{Missing: missing})
	case *protocol.BlobPut:
		if j.kind != protocol.JobKindBackup {
			return errors.New("blobs are accepted for backups only")
		}
		added, err := r.blobs.Put(ctx, j.accountID, m.ID, m.Kind, int(m.RawLength), m.Sealed)
		if err != nil {
			return errors.New("storing blob failed")
		}
		if added {
			j.storedBytes.Add(int64(len(m.Sealed)))
			j.storedRaw.Add(int64(m.RawLength))
		}
		return nil
	case *protocol.FlushRequest:
		if err := r.blobs.Flush(ctx, j.accountID); err != nil {
			return errors.New("flush failed")
		}
		return enc.Encode(&protocol.FlushResponse{})
	case *protocol.GetRequest:
		return r.serveGet(ctx, j, m, enc)
	default:
		return fmt.Errorf("unexpected %s on a data stream", msg.Type())
	}
}

func (r *Runner) serveGet(ctx context.Context, j *activeJob, m *protocol.GetRequest,
	enc *protocol.Encoder) error {
	if len(m.IDs) > protocol.MaxBatch {
		return fmt.Errorf("batch of %d ids is over %d", len(m.IDs), protocol.MaxBatch)
	}
	err := r.blobs.Get(ctx, j.accountID, m.IDs, func(id blob.ID, sealed []byte) error {
		return enc.Encode(&protocol.BlobData{ID: id, Sealed: sealed})
	})
	if err != nil {
		return fmt.Errorf("read blobs: %w", err)
	}
	return enc.Encode(&protocol.GetDone{})
}
