package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/transport"
)

// pipeStream is one end of an in-memory pipe seen as a transport.Stream. The real
// transports are tested in protocol/transport; here only the client's logic matters.
type pipeStream struct{ net.Conn }

func (p pipeStream) Reset() { p.Conn.Close() }

// fakeStore plays the controller's side of data streams over a map. It is safe for
// concurrent use; mu guards blobs.
type fakeStore struct {
	mu    sync.Mutex
	blobs map[blob.ID][]byte
	// failGet makes every GetRequest answer an Error.
	failGet bool
}

func (f *fakeStore) opener(t *testing.T) Opener {
	return func(context.Context) (transport.Stream, error) {
		a, b := net.Pipe()
		go f.serve(t, b)
		return pipeStream{a}, nil
	}
}

func (f *fakeStore) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	enc, dec := protocol.NewEncoder(c), protocol.NewDecoder(c)
	if _, err := protocol.Expect[*protocol.DataOpen](dec); err != nil {
		return
	}
	_ = enc.Encode(&protocol.DataOpenAck{})
	for {
		msg, err := dec.Decode()
		if err != nil {
			return
		}
		if err := f.answer(msg, enc); err != nil {
			return
		}
	}
}

func (f *fakeStore) answer(msg protocol.Message, enc *protocol.Encoder) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m := msg.(type) {
	case *protocol.MissingRequest:
		out := make([]bool, len(m.IDs))
		for i, id := range m.IDs {
			_, ok := f.blobs[id]
			out[i] = !ok
		}
		return enc.Encode(&protocol.MissingResponse{Missing: out})
	case *protocol.BlobPut:
		f.blobs[m.ID] = append([]byte(nil), m.Sealed...)
		return nil
	case *protocol.FlushRequest:
		return enc.Encode(&protocol.FlushResponse{})
	case *protocol.GetRequest:
		if f.failGet {
			return enc.Encode(&protocol.Error{Code: protocol.ErrCodeInternal, Message: "disk on fire"})
		}
		for _, id := range m.IDs {
			if err := enc.Encode(&protocol.BlobData{ID: id, Sealed: f.blobs[id]}); err != nil {
				return err
			}
		}
		return enc.Encode(&protocol.GetDone{})
	}
	return errors.New("unexpected message")
}

func TestPutMissingFlushGet(t *testing.T) {
	ctx := context.Background()
	f := &fakeStore{blobs: map[blob.ID][]byte{}}
	c, err := Open(ctx, f.opener(t), "backup_1", 3)
	require.NoError(t, err)
	defer c.Close()

	// More ids than one batch holds, so Missing must split and keep the order.
	ids := make([]blob.ID, protocol.MaxBatch+10)
	for i := range ids {
		ids[i] = blob.ID{byte(i), byte(i >> 8), 1}
	}
	var wg sync.WaitGroup
	for i := 0; i < len(ids); i += 2 {
		wg.Go(func() {
			assert.NoError(t, c.Put(ctx, ids[i], blob.KindData, 1, []byte{byte(i)}))
		})
	}
	wg.Wait()
	require.NoError(t, c.Flush(ctx))

	missing, err := c.Missing(ctx, ids)
	require.NoError(t, err)
	require.Len(t, missing, len(ids))
	for i := range ids {
		assert.Equal(t, i%2 == 1, missing[i], "id %d", i)
	}

	want := []blob.ID{ids[4], ids[0], ids[4]}
	var got []blob.ID
	err = c.Get(ctx, want, func(id blob.ID, sealed []byte) error {
		got = append(got, id)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, want, got, "in request order, repeats kept")
}

func TestBrokenStreamFailsFastInsteadOfHanging(t *testing.T) {
	ctx := context.Background()
	f := &fakeStore{blobs: map[blob.ID][]byte{{1}: []byte("x")}, failGet: true}
	c, err := Open(ctx, f.opener(t), "restore_1", 1)
	require.NoError(t, err)
	defer c.Close()

	err = c.Get(ctx, []blob.ID{{1}}, func(blob.ID, []byte) error { return nil })
	var re *protocol.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Message, "disk on fire")
	// The only stream is broken now: later calls fail at once with the same cause.
	_, err = c.Missing(ctx, []blob.ID{{1}})
	assert.ErrorAs(t, err, &re)
	assert.Error(t, c.Flush(ctx))
}

func TestOpenRefused(t *testing.T) {
	opener := func(context.Context) (transport.Stream, error) {
		a, b := net.Pipe()
		go func() {
			defer b.Close()
			dec, enc := protocol.NewDecoder(b), protocol.NewEncoder(b)
			_, _ = dec.Decode()
			_ = enc.Encode(&protocol.Error{Code: protocol.ErrCodeUnauthorized, Message: "no"})
			_, _ = io.Copy(io.Discard, b)
		}()
		return pipeStream{a}, nil
	}
	_, err := Open(context.Background(), opener, "someone_elses_job", 2)
	var re *protocol.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, protocol.ErrCodeUnauthorized, re.Code)
}
