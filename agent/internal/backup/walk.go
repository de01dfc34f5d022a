package backup

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// dir is a directory whose tree is being built. Each child fills its own slot of nodes
// and then counts pending down; whoever counts it to zero stores the tree and fills the
// directory's slot in its parent. The atomic count orders the slot writes before the read.
type dir struct {
	parent  *dir // nil for the root tree
	slot    int  // index in parent.nodes
	path    string
	node    tree.Node   // the directory's own entry; Subtree is set when the tree is stored
	nodes   []tree.Node // children; a slot left with no name is an entry that was skipped
	pending atomic.Int64
}

// fileJob is a non-directory entry for the file workers.
type fileJob struct {
	dir    *dir
	slot   int
	path   string
	name   string
	reread bool // the cache named chunks the store lacks: read the file, skip the cache
}

// walker lists directories depth first and hands every other entry to the file workers.
type walker struct {
	r *run
	b *batch // trees finished by the walker
}

func newWalker(r *run) *walker { return &walker{r: r, b: newBatch(r)} }

// walk backs up every source path into the root tree, then flushes its batch.
func (w *walker) walk(ctx context.Context) error {
	root := &dir{path: "(root)", nodes: make([]tree.Node, len(w.r.paths))}
	root.pending.Store(int64(len(w.r.paths)) + 1)
	for i, p := range w.r.paths {
		if err := w.top(ctx, root, i, p); err != nil {
			return err
		}
	}
	if err := w.r.complete(ctx, w.b, root, -1, nil); err != nil {
		return err
	}
	return w.b.flush(ctx)
}

// top backs up one source path, which must exist and, if a directory, be listable.
func (w *walker) top(ctx context.Context, root *dir, slot int, p string) error {
	var st unix.Stat_t
	if err := lstat(p, &st); err != nil {
		return fmt.Errorf("source %s: %w", p, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return w.dir(ctx, root, slot, p, p, true)
	case unix.S_IFREG:
		return w.send(ctx, fileJob{dir: root, slot: slot, path: p, name: p})
	}
	n, err := w.r.special(p, p, &st)
	if err != nil {
		return fmt.Errorf("source %s: %w", p, err)
	}
	return w.r.complete(ctx, w.b, root, slot, n)
}

// dir lists a directory, walks its subdirectories, queues its other entries and releases
// its own hold on the tree, which is stored once the last child is done.
func (w *walker) dir(ctx context.Context, parent *dir, slot int, p, name string,
	top bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, kids, err := w.list(parent, slot, p, name)
	if err != nil {
		if top {
			return fmt.Errorf("source %s: %w", p, err)
		}
		w.r.warn(p, "list directory", err)
		if d == nil {
			return w.r.complete(ctx, w.b, parent, slot, nil)
		}
	}
	for i, e := range kids {
		child := joinPath(p, e.name)
		var err error
		if e.dir {
			err = w.dir(ctx, d, i, child, e.name, false)
		} else {
			err = w.send(ctx, fileJob{dir: d, slot: i, path: child, name: e.name})
		}
		if err != nil {
			return err
		}
	}
	return w.r.complete(ctx, w.b, d, -1, nil)
}

// list reads a directory and builds its dir. On a listing error it still returns the
// dir, empty, if the directory can be stat'ed, so that it is kept with its metadata.
func (w *walker) list(parent *dir, slot int, p, name string) (*dir, []child, error) {
	names, st, err := readDir(p)
	if err != nil {
		if serr := lstat(p, &st); serr != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, nil, err
		}
	}
	kids := w.r.keep(p, names)
	d := &dir{parent: parent, slot: slot, path: p, nodes: make([]tree.Node, len(kids))}
	d.node = w.r.node(p, name, &st)
	d.pending.Store(int64(len(kids)) + 1)
	w.r.stats.dirs.Add(1)
	return d, kids, err
}

// send queues a job for the file workers. Before it would block, it flushes the walker's
// batch, whose trees the workers may be waiting on in the budget.
func (w *walker) send(ctx context.Context, j fileJob) error {
	select {
	case w.r.files <- j:
		return nil
	default:
	}
	if err := w.b.flush(ctx); err != nil {
		return err
	}
	select {
	case w.r.files <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keep drops the excluded entries.
func (r *run) keep(dir string, kids []child) []child {
	return slices.DeleteFunc(kids, func(c child) bool {
		return r.excluded(joinPath(dir, c.name), c.name)
	})
}

// excluded reports whether a pattern matches the entry's base name or full path.
func (r *run) excluded(full, name string) bool {
	for _, pat := range r.opts.Excludes {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
		if ok, _ := path.Match(pat, full); ok {
			return true
		}
	}
	return false
}

// complete puts n, if not nil, in slot of d and counts one child of d done; slot -1 is
// the walker's own hold on d. Every directory this finishes is stored, up the tree.
func (r *run) complete(ctx context.Context, b *batch, d *dir, slot int, n *tree.Node) error {
	if n != nil {
		d.nodes[slot] = *n
	}
	for d.pending.Add(-1) == 0 {
		id, err := r.storeTree(ctx, b, d)
		if err != nil {
			return err
		}
		if d.parent == nil {
			r.root, r.rootSet = id, true
			return nil
		}
		d.node.Subtree = &id
		d.parent.nodes[d.slot] = d.node
		d = d.parent
	}
	return nil
}

// storeTree encodes a finished directory and hands the tree blob to b.
func (r *run) storeTree(ctx context.Context, b *batch, d *dir) (blob.ID, error) {
	t := tree.Tree{Nodes: slices.DeleteFunc(d.nodes, func(n tree.Node) bool {
		return n.Name == ""
	})}
	d.nodes = nil
	data, err := t.Marshal()
	if err != nil {
		return blob.ID{}, fmt.Errorf("tree of %s: %w", d.path, err)
	}
	if len(data) > blob.MaxPlainSize {
		return blob.ID{}, fmt.Errorf("tree of %s: %d bytes, more than a blob holds (%d)",
			d.path, len(data), blob.MaxPlainSize)
	}
	id := r.codec.ID(data)
	return id, b.add(ctx, id, blob.KindTree, data, true)
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
