package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// errShort reports a Source that delivered fewer blobs than asked without an error.
var errShort = errors.New("source delivered fewer chunks than asked")

// fileTask is one regular file to write, plus the paths hard-linked to it.
type fileTask struct {
	e     *entry
	node  *tree.Node // whose content and metadata are written
	dir   *dirHandle // where the content is written
	own   bool       // dir was opened for this task and is closed by release
	links []*entry
}

// release closes a directory the task opened for itself; it is idempotent.
func (t *fileTask) release() {
	if t.own {
		t.dir.close()
		t.own = false
	}
}

// prepareFile decides whether and where a regular file is written.
func (r *run) prepareFile(d *dirHandle, e *entry) (*fileTask, error) {
	if e.group != nil {
		return r.prepareGroup(d, e)
	}
	ok, err := r.claim(d.root, e.name, e.rel, entrySize(e))
	if !ok {
		return nil, err
	}
	return &fileTask{e: e, node: e.node, dir: d}, nil
}

// prepareGroup handles a hard-linked file: its content goes to the first of its paths
// that may be written, and the others become links to it.
func (r *run) prepareGroup(d *dirHandle, e *entry) (*fileTask, error) {
	var t *fileTask
	for _, m := range e.group.live() {
		ok, err := r.claim(r.root, m.rel, m.rel, 0)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
		case t == nil:
			t = &fileTask{e: m, node: e.group.source(), dir: d}
		default:
			t.links = append(t.links, m)
		}
	}
	if t == nil {
		r.stats.bytesDone.Add(entrySize(e))
		return nil, nil
	}
	if t.e.dir != e.dir {
		od, err := r.openDir(t.e.dir.rel)
		if err != nil {
			return nil, err
		}
		t.dir, t.own = od, true
	}
	return t, nil
}

// writeFiles writes the tasks' files, fetching all their chunks with one Source.Get.
func (r *run) writeFiles(ctx context.Context, tasks []*fileTask) error {
	var stream []*fileTask
	var ids []blob.ID
	for _, t := range tasks {
		if len(t.node.Content) > 0 {
			stream = append(stream, t)
			ids = append(ids, t.node.Content...)
			continue
		}
		tmp, err := createTemp(t)
		if err != nil {
			return &FileError{Path: t.e.rel, Err: err}
		}
		if err := r.finishFile(t, tmp); err != nil {
			return err
		}
	}
	if len(stream) == 0 {
		return nil
	}
	s := &streamer{ctx: ctx, r: r, tasks: stream, open: r.opt.Codec.NewOpener()}
	err := r.opt.Source.Get(ctx, ids, s.chunk)
	s.abort()
	if err == nil && s.i < len(stream) {
		err = errShort
	}
	return s.wrap(err)
}

// streamer writes chunks as they arrive, one file after the other, so memory stays at
// about one chunk whatever the files' sizes.
type streamer struct {
	ctx   context.Context
	r     *run
	tasks []*fileTask
	i, k  int      // the current task and its next chunk
	out   *tmpFile // the current task's temporary file, once its first chunk came
	// open decrypts each chunk where it arrived and inflates it into a buffer it reuses.
	open *blob.Opener
}

func (s *streamer) chunk(id blob.ID, sealed []byte) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	if s.i >= len(s.tasks) {
		return errors.New("source delivered more chunks than asked")
	}
	t := s.tasks[s.i]
	if err := s.write(t, id, sealed); err != nil {
		return &FileError{Path: t.e.rel, Err: err}
	}
	s.k++
	if s.k < len(t.node.Content) {
		return nil
	}
	out := s.out
	s.out, s.i, s.k = nil, s.i+1, 0
	return s.r.finishFile(t, out)
}

// write verifies one chunk and appends it to the current file. Nothing of a chunk is
// written before Codec.Open has checked it against its id.
func (s *streamer) write(t *fileTask, id blob.ID, sealed []byte) error {
	if want := t.node.Content[s.k]; id != want {
		return fmt.Errorf("chunk %d: source sent %s, want %s", s.k, id, want)
	}
	plain, kind, err := s.open.Open(id, sealed)
	if err != nil {
		return fmt.Errorf("chunk %d (%s): %w", s.k, id, err)
	}
	if kind != blob.KindData {
		return fmt.Errorf("chunk %d (%s): %w: a %s blob", s.k, id, blob.ErrCorrupt, kind)
	}
	if s.out == nil {
		if s.out, err = createTemp(t); err != nil {
			return err
		}
	}
	if _, err := s.out.f.Write(plain); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	s.out.n += int64(len(plain))
	s.r.stats.bytes.Add(int64(len(plain)))
	s.r.stats.bytesDone.Add(int64(len(plain)))
	return nil
}

// abort discards a file left half-written.
func (s *streamer) abort() {
	if s.out != nil {
		s.out.discard()
		s.out = nil
	}
}

// wrap names the file whose chunk the Source failed to deliver.
func (s *streamer) wrap(err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := errors.AsType[*FileError](err); ok {
		return fe
	}
	if s.i < len(s.tasks) {
		return &FileError{Path: s.tasks[s.i].e.rel, Err: fmt.Errorf("chunk %d: %w", s.k, err)}
	}
	return fmt.Errorf("fetch chunks: %w", err)
}

// tmpFile is a file being written under a temporary name.
type tmpFile struct {
	dir  *dirHandle
	name string
	f    *os.File // nil once closed
	n    int64    // bytes written
}

func createTemp(t *fileTask) (*tmpFile, error) {
	tf := &tmpFile{dir: t.dir}
	name, err := makeTemp(t.e.name, func(name string) error {
		f, err := t.dir.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		tf.f = f
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	tf.name = name
	return tf, nil
}

// discard closes and removes the temporary file.
func (tf *tmpFile) discard() {
	if tf.f != nil {
		closeQuietly(tf.f)
		tf.f = nil
	}
	_ = tf.dir.root.Remove(tf.name)
}

// finishFile sets a written file's metadata, renames it into place and makes its hard
// links.
func (r *run) finishFile(t *fileTask, tmp *tmpFile) error {
	n := t.node
	r.setMeta(tmp.f, t.e.rel, n)
	err := tmp.f.Close()
	tmp.f = nil
	if err != nil {
		tmp.discard()
		return &FileError{Path: t.e.rel, Err: fmt.Errorf("close: %w", err)}
	}
	r.setTimes(t.dir.root, tmp.name, t.e.rel, n)
	if err := t.dir.root.Rename(tmp.name, t.e.name); err != nil {
		tmp.discard()
		return &FileError{Path: t.e.rel, Err: err}
	}
	if n.Size != 0 && uint64(tmp.n) != n.Size {
		r.stats.warnf("%s: %d bytes restored, the snapshot says %d", t.e.rel, tmp.n, n.Size)
	}
	r.stats.done(true, 0)
	t.release()
	for _, m := range t.links {
		if err := r.link(t.e.rel, m); err != nil {
			return err
		}
	}
	return nil
}

// link makes m a hard link to the restored file at src.
func (r *run) link(src string, m *entry) error {
	if !r.opt.Overwrite {
		err := r.root.Link(src, m.rel)
		if errors.Is(err, fs.ErrExist) {
			r.stats.skip(m.rel)
			r.stats.done(false, 0)
			return nil
		}
		if err != nil {
			return &FileError{Path: m.rel, Err: err}
		}
		r.stats.done(true, 0)
		return nil
	}
	tmp, err := makeTemp(m.name, func(name string) error {
		return r.root.Link(src, joinRel(m.dir.rel, name))
	})
	if err != nil {
		return &FileError{Path: m.rel, Err: err}
	}
	tmp = joinRel(m.dir.rel, tmp)
	if err := r.root.Rename(tmp, m.rel); err != nil {
		_ = r.root.Remove(tmp)
		return &FileError{Path: m.rel, Err: err}
	}
	r.stats.done(true, 0)
	return nil
}
