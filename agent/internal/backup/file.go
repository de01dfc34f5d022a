package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/restic/chunker"
	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/agent/internal/cache"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// racyWindow is how recent a file's mtime or ctime may be, relative to when it was read,
// for it to be left out of the cache: a change right after the read could keep the same
// timestamps on a file system with coarse clocks, and the cache would then hide it.
const racyWindow = time.Second

var errBecameDir = errors.New("turned into a directory during the backup")

// readError is a failure to read a file, which skips the file with a warning; any other
// error from chunking fails the backup.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// worker stats files, takes unchanged ones from the cache, and reads, chunks and hashes
// the others with a reader it borrows from the run.
type worker struct {
	r *run
	b *batch
}

func newWorker(r *run) *worker { return &worker{r: r, b: newBatch(r)} }

// reader is what cutting a file into chunks takes: a chunker and the buffer of the chunk
// being cut. A run has a fixed number of them, shared by its file workers, so the memory
// they hold does not grow with the number of workers, and a reader allocates per chunk
// only the copy its worker's batch keeps.
type reader struct {
	ch *chunker.Chunker
	// scratch holds the chunk being cut. It starts at twice the average chunk size and
	// keeps whatever the chunker grew it to, up to the largest chunk, so that a reader
	// that never meets a maximal chunk never pays for one.
	scratch []byte
}

// newReaders makes n readers, which allocate their buffers on first use: a run that
// takes every file from the cache never does.
func newReaders(n int) chan *reader {
	ch := make(chan *reader, n)
	for range n {
		ch <- &reader{}
	}
	return ch
}

// takeReader borrows a reader, flushing the batch first if it has to wait: the worker
// holding one may be waiting for budget that this batch holds.
func (w *worker) takeReader(ctx context.Context) (*reader, error) {
	select {
	case rd := <-w.r.readers:
		return w.r.ready(rd), nil
	default:
	}
	if err := w.b.flush(ctx); err != nil {
		return nil, err
	}
	select {
	case rd := <-w.r.readers:
		return w.r.ready(rd), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ready gives rd its chunker and buffer if it has none yet.
func (r *run) ready(rd *reader) *reader {
	if rd.ch == nil {
		rd.ch = chunker.NewWithBoundaries(nil, r.opts.Polynomial, r.minChunk, r.maxChunk)
		rd.scratch = make([]byte, 0, 2<<r.opts.AverageBits)
	}
	return rd
}

// loop processes files until the walker is done and nothing is left to read again.
func (w *worker) loop(ctx context.Context) error {
	for {
		j, ok, err := w.next(ctx)
		if err != nil || !ok {
			return err
		}
		if err := w.process(ctx, j); err != nil {
			return err
		}
	}
}

// next returns a file to read again if there is one, else the next queued job. Before it
// waits for work it flushes its batch, so that nothing it holds waits on an idle worker.
func (w *worker) next(ctx context.Context) (fileJob, bool, error) {
	for {
		if n := len(w.b.rereads); n > 0 {
			j := w.b.rereads[n-1]
			w.b.rereads = w.b.rereads[:n-1]
			return j, true, nil
		}
		select {
		case j, ok := <-w.r.files:
			if ok {
				return j, true, nil
			}
			if err := w.b.flush(ctx); err != nil || len(w.b.rereads) == 0 {
				return fileJob{}, false, err
			}
			continue
		default:
		}
		if err := w.b.flush(ctx); err != nil {
			return fileJob{}, false, err
		}
		if len(w.b.rereads) > 0 {
			continue
		}
		select {
		case j, ok := <-w.r.files:
			if ok {
				return j, true, nil
			}
		case <-ctx.Done():
			return fileJob{}, false, ctx.Err()
		}
	}
}

// process backs up one non-directory entry. An entry that vanished or cannot be read is
// left out with a warning.
func (w *worker) process(ctx context.Context, j fileJob) error {
	var st unix.Stat_t
	if err := lstat(j.path, &st); err != nil {
		w.r.warn(j.path, "stat", err)
		return w.r.complete(ctx, w.b, j.dir, j.slot, nil)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return w.regular(ctx, j, &st)
	case unix.S_IFDIR:
		w.r.warn(j.path, "stat", errBecameDir)
		return w.r.complete(ctx, w.b, j.dir, j.slot, nil)
	}
	n, err := w.r.special(j.path, j.name, &st)
	if err != nil {
		w.r.warn(j.path, "read", err)
	}
	return w.r.complete(ctx, w.b, j.dir, j.slot, n)
}

// regular backs up a regular file from the cache if its state is unchanged, else by
// reading it.
func (w *worker) regular(ctx context.Context, j fileJob, st *unix.Stat_t) error {
	if w.r.cache != nil && !j.reread {
		fs := fileState(st)
		if ids, ok := w.r.cache.Lookup(j.path, fs); ok {
			n := w.r.node(j.path, j.name, st)
			n.Size, n.Content = uint64(st.Size), ids
			return w.b.check(ctx, &check{job: j, node: n, state: fs})
		}
	}
	return w.read(ctx, j)
}

// read chunks a file. Its entry takes the stat after reading, so that its size and times
// go with the content read; it is cached only if it did not change while being read and
// is not racy.
func (w *worker) read(ctx context.Context, j fileJob) error {
	if w.r.opts.onRead != nil {
		w.r.opts.onRead(j.path)
	}
	f, pre, err := openFile(j.path)
	if err != nil {
		w.r.warn(j.path, "open", err)
		return w.r.complete(ctx, w.b, j.dir, j.slot, nil)
	}
	defer f.Close()
	rd, err := w.takeReader(ctx)
	if err != nil {
		return err
	}
	started := w.r.now()
	ids, size, err := w.chunkFile(ctx, rd, f, pre.Size)
	w.r.readers <- rd
	var rerr *readError
	if errors.As(err, &rerr) {
		w.r.warn(j.path, "read", rerr.err)
		return w.r.complete(ctx, w.b, j.dir, j.slot, nil)
	}
	if err != nil {
		return err
	}
	var post unix.Stat_t
	if err := fstat(f, &post); err != nil {
		w.r.warn(j.path, "stat", err)
		return w.r.complete(ctx, w.b, j.dir, j.slot, nil)
	}
	n := w.r.node(j.path, j.name, &post)
	n.Size, n.Content = uint64(size), ids
	st := fileState(&post)
	cacheable := st == fileState(&pre) && st.Size == size && !racy(&post, started)
	return w.r.fileDone(ctx, w.b, j, &n, st, cacheable)
}

// chunkFile splits f into chunks and hands each to the batch.
func (w *worker) chunkFile(ctx context.Context, rd *reader, f *os.File, size int64) (
	[]blob.ID, int64, error) {
	if size < int64(w.r.minChunk) {
		ids, n, done, err := w.chunkSmall(ctx, rd, f)
		if done || err != nil {
			return ids, n, err
		}
	}
	rd.ch.ResetWithBoundaries(f, w.r.opts.Polynomial, w.r.minChunk, w.r.maxChunk)
	rd.ch.SetAverageBits(w.r.opts.AverageBits)
	var ids []blob.ID
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		c, err := rd.ch.Next(rd.scratch)
		if errors.Is(err, io.EOF) {
			return ids, total, nil
		}
		if err != nil {
			return nil, 0, &readError{err}
		}
		if cap(c.Data) > cap(rd.scratch) {
			rd.scratch = c.Data[:0]
		}
		id, err := w.chunk(ctx, c.Data)
		if err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
		total += int64(len(c.Data))
	}
}

// chunkSmall reads a file stat'ed shorter than the smallest chunk, which is one chunk
// whatever the chunker would say, so it skips the chunker. If the file has grown since,
// it rewinds and reports not done, for the chunker to take it from the start.
func (w *worker) chunkSmall(ctx context.Context, rd *reader, f *os.File) ([]blob.ID, int64,
	bool, error) {
	n, err := io.ReadFull(f, rd.scratch[:min(w.r.minChunk, uint(cap(rd.scratch)))])
	switch {
	case errors.Is(err, io.EOF):
		return nil, 0, true, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		id, err := w.chunk(ctx, rd.scratch[:n])
		return []blob.ID{id}, int64(n), true, err
	case err != nil:
		return nil, 0, true, &readError{err}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, true, &readError{err}
	}
	return nil, 0, false, nil
}

// chunk names one chunk and hands it to the batch, which copies it if it keeps it.
func (w *worker) chunk(ctx context.Context, data []byte) (blob.ID, error) {
	id := w.r.codec.ID(data)
	w.r.stats.bytesDone.Add(int64(len(data)))
	return id, w.b.add(ctx, id, blob.KindData, data, false)
}

// fileDone records a backed-up regular file and fills its slot.
func (r *run) fileDone(ctx context.Context, b *batch, j fileJob, n *tree.Node,
	st cache.FileState, cacheable bool) error {
	if cacheable && r.cache != nil {
		r.cache.Record(j.path, st, n.Content)
	}
	r.stats.files.Add(1)
	r.stats.filesDone.Add(1)
	r.stats.bytes.Add(int64(n.Size))
	r.stats.chunks.Add(int64(len(n.Content)))
	return r.complete(ctx, b, j.dir, j.slot, n)
}

// cachedDone finishes a file whose cached chunks the store holds.
func (r *run) cachedDone(ctx context.Context, b *batch, c *check) error {
	r.stats.fromCache.Add(1)
	r.stats.bytesDone.Add(int64(c.node.Size))
	return r.fileDone(ctx, b, c.job, &c.node, c.state, true)
}

// racy reports whether a file's timestamps are too close to when it was read to tell a
// later change apart.
func racy(st *unix.Stat_t, read time.Time) bool {
	limit := read.Add(-racyWindow).UnixNano()
	return st.Mtim.Nano() >= limit || st.Ctim.Nano() >= limit
}

func fileState(st *unix.Stat_t) cache.FileState {
	return cache.FileState{
		Size:       st.Size,
		ModTime:    st.Mtim.Nano(),
		ChangeTime: st.Ctim.Nano(),
		Inode:      uint64(st.Ino),
		Device:     uint64(st.Dev),
	}
}
