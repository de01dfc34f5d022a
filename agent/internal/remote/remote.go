// Package remote is the agent's client of the controller's chunk store for one job: it
// opens data streams on the session connection and asks which blobs are missing, sends
// blobs, flushes them and fetches them back, spreading work over the streams.
package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/transport"
)

// Opener opens a new stream to the controller.
type Opener func(ctx context.Context) (transport.Stream, error)

// stream is one data stream; only the holder of it from the pool uses it.
type stream struct {
	st  transport.Stream
	enc *protocol.Encoder
	dec *protocol.Decoder
	// err is set once a request on the stream failed; the stream is then reset and every
	// later request on it fails with err at once.
	err error
}

// Client spreads a job's data requests over several streams. It is safe for concurrent
// use: each call takes a stream from the pool for its duration.
type Client struct {
	pool chan *stream
	all  []*stream

	closeOnce sync.Once
}

// Open opens n data streams for the job and checks that the controller accepts them.
func Open(ctx context.Context, open Opener, jobID string, n int) (*Client, error) {
	n = max(1, n)
	c := &Client{pool: make(chan *stream, n)}
	for range n {
		s, err := openStream(ctx, open, jobID)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.all = append(c.all, s)
		c.pool <- s
	}
	return c, nil
}

func openStream(ctx context.Context, open Opener, jobID string) (*stream, error) {
	st, err := open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open data stream: %w", err)
	}
	s := &stream{st: st, enc: protocol.NewEncoder(st), dec: protocol.NewDecoder(st)}
	// Blobs are handed to Get's fn and done with before the next frame is read.
	s.dec.ReuseBuffer()
	if err := s.enc.Encode(&protocol.DataOpen{JobID: jobID}); err != nil {
		st.Reset()
		return nil, fmt.Errorf("open data stream: %w", err)
	}
	if _, err := protocol.Expect[*protocol.DataOpenAck](s.dec); err != nil {
		st.Reset()
		return nil, fmt.Errorf("open data stream: %w", err)
	}
	return s, nil
}

// Close ends every stream. It is idempotent.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		for _, s := range c.all {
			s.st.Close()
		}
	})
}

// with runs fn on a stream from the pool. A stream whose request failed is reset and
// marked broken: its framing can no longer be trusted.
func (c *Client) with(ctx context.Context, fn func(*stream) error) error {
	var s *stream
	select {
	case s = <-c.pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { c.pool <- s }()
	if s.err != nil {
		return s.err
	}
	stop := context.AfterFunc(ctx, s.st.Reset)
	err := fn(s)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		s.st.Reset()
		s.err = err
	}
	return err
}

// Missing reports, for each id, whether the store lacks it.
func (c *Client) Missing(ctx context.Context, ids []blob.ID) ([]bool, error) {
	out := make([]bool, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), protocol.MaxBatch)
		batch := ids[:n]
		ids = ids[n:]
		err := c.with(ctx, func(s *stream) error {
			if err := s.enc.Encode(&protocol.MissingRequest{IDs: batch}); err != nil {
				return err
			}
			resp, err := protocol.Expect[*protocol.MissingResponse](s.dec)
			if err != nil {
				return err
			}
			if len(resp.Missing) != len(batch) {
				return errors.New("missing: reply does not match the request")
			}
			out = append(out, resp.Missing...)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ask for missing blobs: %w", err)
		}
	}
	return out, nil
}

// Put sends one sealed blob. The controller does not answer each blob; a failure shows up
// on a later request on the same stream, at the latest at Flush.
func (c *Client) Put(ctx context.Context, id blob.ID, kind blob.Kind, rawLen int,
	sealed []byte) error {
	err := c.with(ctx, func(s *stream) error {
		return s.enc.Encode(&protocol.BlobPut{Kind: kind, RawLength: uint32(rawLen), ID: id,
			Sealed: sealed})
	})
	if err != nil {
		return fmt.Errorf("send blob %s: %w", id, err)
	}
	return nil
}

// Flush returns once every blob sent so far, on every stream, is durable and indexed. It
// takes every stream out of the pool, so it waits for the requests in flight.
func (c *Client) Flush(ctx context.Context) error {
	held := make([]*stream, 0, len(c.all))
	defer func() {
		for _, s := range held {
			c.pool <- s
		}
	}()
	for range c.all {
		select {
		case s := <-c.pool:
			held = append(held, s)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, s := range held {
		if s.err != nil {
			return fmt.Errorf("flush: %w", s.err)
		}
		if err := s.enc.Encode(&protocol.FlushRequest{}); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
		if _, err := protocol.Expect[*protocol.FlushResponse](s.dec); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	return nil
}

// Get fetches sealed blobs and calls fn for each in the order of ids. Blobs are checked by
// the caller (blob.Codec.Open verifies each against its id). sealed lies in the stream's
// read buffer: it is fn's only until fn returns, and fn may overwrite it.
func (c *Client) Get(ctx context.Context, ids []blob.ID,
	fn func(id blob.ID, sealed []byte) error) error {
	for len(ids) > 0 {
		n := min(len(ids), protocol.MaxBatch)
		batch := ids[:n]
		ids = ids[n:]
		if err := c.with(ctx, func(s *stream) error { return getBatch(s, batch, fn) }); err != nil {
			return fmt.Errorf("fetch blobs: %w", err)
		}
	}
	return nil
}

func getBatch(s *stream, batch []blob.ID, fn func(blob.ID, []byte) error) error {
	if err := s.enc.Encode(&protocol.GetRequest{IDs: batch}); err != nil {
		return err
	}
	for _, want := range batch {
		m, err := protocol.Expect[*protocol.BlobData](s.dec)
		if err != nil {
			return err
		}
		if m.ID != want {
			return fmt.Errorf("controller sent blob %s, want %s", m.ID, want)
		}
		if err := fn(m.ID, m.Sealed); err != nil {
			return err
		}
	}
	_, err := protocol.Expect[*protocol.GetDone](s.dec)
	return err
}
