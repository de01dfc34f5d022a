package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"

	"github.com/restic/chunker"
	"golang.org/x/sync/errgroup"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

const (
	// DefaultStreamAverageBits gives stream chunks of about 16 KiB. Database dumps change
	// in many small places between runs; docs/design.md has the measurements behind it.
	DefaultStreamAverageBits = 14
	// partChunks is the most chunk ids one part of a stream lists, keeping each part's
	// tree near 300 KiB however long the stream is.
	partChunks = 4096
	// PartNodeName names the one file node in every part tree of a stream snapshot.
	PartNodeName = "data"
)

// StreamOptions says how to store one byte stream, such as a database dump.
type StreamOptions struct {
	// Codec names and seals blobs with the account's keys.
	Codec *blob.Codec
	// Polynomial is the account's chunker polynomial.
	Polynomial chunker.Pol
	// AverageBits sets the average chunk size; zero means DefaultStreamAverageBits.
	AverageBits int
	// Store receives the blobs. Stream does not flush it: the caller does, once, after
	// everything of the backup is Put.
	Store Store
	// Concurrency is the number of sealers; zero means runtime.NumCPU().
	Concurrency int
	// Progress, if not nil, is called from the reading goroutine with the bytes read so
	// far, after every batch.
	Progress func(bytesDone int64)
	// Logger receives per-batch detail at Debug; nil discards it.
	Logger *slog.Logger
}

// StreamResult describes a stored stream.
type StreamResult struct {
	// Root is the stream's snapshot: a tree whose nodes, named part-00000000 and up in
	// order, are directories; each holds one file node named PartNodeName whose content
	// is the next run of the stream's chunks.
	Root blob.ID
	// Bytes is the stream's length.
	Bytes int64
	// ChunksTotal counts the data chunks, repeats included; ChunksNew those Put.
	ChunksTotal, ChunksNew, TreesNew int64
	// StoredBytes is the sealed size of everything Put.
	StoredBytes int64
}

// Stream splits r into content-defined chunks, sends the chunks the store lacks, and
// stores the list of chunks as a snapshot. Memory is bounded by one batch of chunks and
// one chunk per sealer, whatever the stream's length. It returns the first error of r,
// of the store or of ctx; on error nothing references what was Put, and a later run
// reuses it.
func Stream(ctx context.Context, r io.Reader, o StreamOptions) (*StreamResult, error) {
	s, err := newStreamer(o)
	if err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	for range s.o.Concurrency {
		g.Go(func() error { return s.sealLoop(gctx) })
	}
	g.Go(func() error {
		defer close(s.seals)
		return s.produce(gctx, r)
	})
	if err := g.Wait(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("stream: %w", err)
	}
	res := s.res
	res.ChunksNew, res.TreesNew = s.chunksNew.Load(), s.treesNew.Load()
	res.StoredBytes = s.stored.Load()
	return &res, nil
}

// streamer is the state of one Stream call. The producing goroutine owns everything but
// the counters, which the sealers update.
type streamer struct {
	o     StreamOptions
	log   *slog.Logger
	seals chan sealJob
	seen  map[blob.ID]struct{} // ids asked about or sent by this stream
	batch []item
	held  int

	part     []blob.ID // chunk ids of the part being filled
	partSize uint64
	parts    []tree.Node

	res                         StreamResult
	chunksNew, treesNew, stored atomic.Int64
}

func newStreamer(o StreamOptions) (*streamer, error) {
	switch {
	case o.Codec == nil:
		return nil, errors.New("no codec")
	case o.Store == nil:
		return nil, errors.New("no store")
	case o.Polynomial == 0 || !o.Polynomial.Irreducible():
		return nil, errors.New("chunker polynomial not irreducible")
	}
	if o.AverageBits == 0 {
		o.AverageBits = DefaultStreamAverageBits
	}
	if o.AverageBits < MinAverageBits || o.AverageBits > MaxAverageBits {
		return nil, fmt.Errorf("average bits %d outside %d..%d",
			o.AverageBits, MinAverageBits, MaxAverageBits)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &streamer{
		o: o, log: o.Logger.With("component", "stream"),
		seals: make(chan sealJob, o.Concurrency),
		seen:  make(map[blob.ID]struct{}),
	}, nil
}

// produce chunks the stream, then stores the part trees and the root.
func (s *streamer) produce(ctx context.Context, r io.Reader) error {
	minSize, maxSize := uint(1)<<(s.o.AverageBits-1), uint(1)<<(s.o.AverageBits+3)
	ch := chunker.NewWithBoundaries(r, s.o.Polynomial, minSize, maxSize)
	ch.SetAverageBits(s.o.AverageBits)
	scratch := make([]byte, 0, maxSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := ch.Next(scratch)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if err := s.chunk(ctx, c.Data); err != nil {
			return err
		}
	}
	if err := s.finishPart(ctx); err != nil {
		return err
	}
	root, err := s.addTree(ctx, &tree.Tree{Nodes: s.parts})
	if err != nil {
		return err
	}
	s.res.Root = root
	return s.flush(ctx)
}

// chunk takes one chunk of the stream.
func (s *streamer) chunk(ctx context.Context, data []byte) error {
	id := s.o.Codec.ID(data)
	s.res.Bytes += int64(len(data))
	s.res.ChunksTotal++
	s.part = append(s.part, id)
	s.partSize += uint64(len(data))
	if err := s.add(ctx, id, blob.KindData, data); err != nil {
		return err
	}
	if len(s.part) >= partChunks {
		return s.finishPart(ctx)
	}
	return nil
}

// finishPart stores the part being filled as a tree and starts the next. A stream with
// no bytes at all still gets one empty part, so that every snapshot has one.
func (s *streamer) finishPart(ctx context.Context) error {
	if len(s.part) == 0 && len(s.parts) > 0 {
		return nil
	}
	t := &tree.Tree{Nodes: []tree.Node{{Name: PartNodeName, Type: tree.TypeFile, Mode: 0o600,
		Size: s.partSize, Content: s.part}}}
	id, err := s.addTree(ctx, t)
	if err != nil {
		return err
	}
	s.parts = append(s.parts, tree.Node{Name: fmt.Sprintf("part-%08d", len(s.parts)),
		Type: tree.TypeDir, Mode: 0o700, Size: s.partSize, Subtree: &id})
	s.part, s.partSize = nil, 0
	return nil
}

func (s *streamer) addTree(ctx context.Context, t *tree.Tree) (blob.ID, error) {
	data, err := t.Marshal()
	if err != nil {
		return blob.ID{}, fmt.Errorf("encode tree: %w", err)
	}
	id := s.o.Codec.ID(data)
	return id, s.add(ctx, id, blob.KindTree, data)
}

// add queues a blob for the next question to the store, unless the stream already has
// it covered.
func (s *streamer) add(ctx context.Context, id blob.ID, kind blob.Kind, data []byte) error {
	if _, ok := s.seen[id]; ok {
		return nil
	}
	s.seen[id] = struct{}{}
	s.batch = append(s.batch, item{id: id, kind: kind, data: bytes.Clone(data), ask: true})
	s.held += len(data)
	if len(s.batch) >= maxAsk || s.held >= batchBytes {
		return s.flush(ctx)
	}
	return nil
}

// flush asks the store which blobs of the batch it lacks and hands those to the sealers.
func (s *streamer) flush(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	items := s.batch
	s.batch, s.held = nil, 0
	ids := make([]blob.ID, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	missing, err := s.o.Store.Missing(ctx, ids)
	if err != nil {
		return fmt.Errorf("ask store about %d blobs: %w", len(ids), err)
	}
	if len(missing) != len(ids) {
		return fmt.Errorf("ask store about %d blobs: %d answers", len(ids), len(missing))
	}
	for i, it := range items {
		if !missing[i] {
			continue
		}
		select {
		case s.seals <- sealJob{id: it.id, kind: it.kind, data: it.data}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.log.Debug("batch sent", "blobs", len(ids), "bytes_done", s.res.Bytes)
	if s.o.Progress != nil {
		s.o.Progress(s.res.Bytes)
	}
	return nil
}

// sealLoop compresses, encrypts and sends blobs until the producer is done.
func (s *streamer) sealLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case j, ok := <-s.seals:
			if !ok {
				return nil
			}
			sealed, err := s.o.Codec.Seal(nil, j.id, j.kind, j.data)
			if err != nil {
				return fmt.Errorf("seal %s %s: %w", j.kind, j.id, err)
			}
			n := int64(len(sealed))
			if err := s.o.Store.Put(ctx, j.id, j.kind, len(j.data), sealed); err != nil {
				return fmt.Errorf("put %s %s: %w", j.kind, j.id, err)
			}
			if j.kind == blob.KindTree {
				s.treesNew.Add(1)
			} else {
				s.chunksNew.Add(1)
			}
			s.stored.Add(n)
		}
	}
}
