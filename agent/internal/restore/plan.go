package restore

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

const (
	// maxDepth bounds how deep directories may nest, so a crafted snapshot cannot keep
	// the walk going; real paths hit PATH_MAX long before.
	maxDepth = 2048
	// treeBatch is how many trees one Source.Get fetches during the walk.
	treeBatch = 256
)

// dirEntry is one directory to restore.
type dirEntry struct {
	rel    string     // relative to the target, with slashes; "." is the target
	node   *tree.Node // nil for the target and for directories the mapping adds
	parent *dirEntry  // nil for the target
	files  []*entry   // the non-directory entries directly inside

	// Set while directories are made, read-only afterwards.
	created bool // made by this restore
	skipped bool // something else is in the way; nothing below is restored
}

// entry is one non-directory path to restore.
type entry struct {
	rel   string
	name  string // the last element of rel
	node  *tree.Node
	dir   *dirEntry
	group *linkGroup // set when the file has hard links inside the snapshot
}

// linkKey identifies a hard-linked file inside a snapshot.
type linkKey struct{ dev, ino uint64 }

// linkGroup is the paths of one hard-linked file. Its owner restores it for all.
type linkGroup struct {
	members []*entry
}

// live returns the members whose directories are restored, in snapshot order.
func (g *linkGroup) live() []*entry {
	var out []*entry
	for _, m := range g.members {
		if !m.dir.skipped {
			out = append(out, m)
		}
	}
	return out
}

// source returns the node whose content the file is restored from: the first that has
// content, since a backup may store the content of a hard-linked file only once.
func (g *linkGroup) source() *tree.Node {
	for _, m := range g.members {
		if len(m.node.Content) > 0 {
			return m.node
		}
	}
	return g.members[0].node
}

// plan is what a snapshot holds, mapped to paths below the target.
type plan struct {
	dirs   []*dirEntry          // every parent before its children
	paths  map[string]*dirEntry // every planned path; nil value for a non-directory
	groups map[linkKey]*linkGroup
}

// pending is a directory whose tree is still to be read.
type pending struct {
	dir *dirEntry
	id  blob.ID
}

func newPlan() *plan {
	t := &dirEntry{rel: "."}
	return &plan{dirs: []*dirEntry{t}, paths: map[string]*dirEntry{".": t},
		groups: make(map[linkKey]*linkGroup)}
}

func (p *plan) target() *dirEntry { return p.dirs[0] }

// plan walks the snapshot's trees, level by level so that each level's trees come in
// few Source.Get calls.
func (r *run) plan(ctx context.Context) (*plan, error) {
	trees, err := r.fetchTrees(ctx, []blob.ID{r.opt.Root}, true)
	if err != nil {
		return nil, err
	}
	p := newPlan()
	queue, err := r.mapRoot(p, trees[r.opt.Root])
	if err != nil {
		return nil, err
	}
	for depth := 0; len(queue) > 0; depth++ {
		if depth > maxDepth {
			return nil, fmt.Errorf("snapshot nests deeper than %d directories", maxDepth)
		}
		if queue, err = r.expand(ctx, p, queue); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// mapRoot applies the contract's mapping: a single backed-up path goes straight into
// the target, several go each to the target plus their absolute path.
func (r *run) mapRoot(p *plan, t *tree.Tree) ([]pending, error) {
	if len(t.Nodes) == 1 {
		return r.mapSingle(p, &t.Nodes[0])
	}
	var queue []pending
	for i := range t.Nodes {
		n := &t.Nodes[i]
		rel, ok := rootRel(n.Name)
		if !ok {
			return nil, fmt.Errorf("snapshot root: %w: bad name %q", tree.ErrInvalid, n.Name)
		}
		parent := r.ensureDirs(p, path.Dir(rel))
		if parent == nil {
			continue
		}
		if rel == "." {
			queue = append(queue, r.mapTargetNode(p, n)...)
			continue
		}
		if q := r.add(p, parent, path.Base(rel), n); q != nil {
			queue = append(queue, *q)
		}
	}
	return queue, nil
}

func (r *run) mapSingle(p *plan, n *tree.Node) ([]pending, error) {
	if _, ok := rootRel(n.Name); !ok {
		return nil, fmt.Errorf("snapshot root: %w: bad name %q", tree.ErrInvalid, n.Name)
	}
	if n.Type == tree.TypeDir {
		return r.mapTargetNode(p, n), nil
	}
	if n.Name == "/" {
		return nil, fmt.Errorf("snapshot root: %w: %q is not a directory", tree.ErrInvalid, n.Name)
	}
	r.add(p, p.target(), path.Base(n.Name), n)
	return nil, nil
}

// mapTargetNode makes the target stand for a backed-up directory.
func (r *run) mapTargetNode(p *plan, n *tree.Node) []pending {
	if n.Type != tree.TypeDir || n.Subtree == nil {
		r.stats.warnf("%s: not a directory, not restored", n.Name)
		return nil
	}
	t := p.target()
	if t.node == nil {
		t.node = n
	}
	return []pending{{dir: t, id: *n.Subtree}}
}

// ensureDirs plans the directories that lead to rel, which the mapping adds because
// the snapshot holds nothing for them. It returns nil when a planned non-directory is
// in the way.
func (r *run) ensureDirs(p *plan, rel string) *dirEntry {
	d, ok := p.paths[rel]
	if ok {
		if d == nil {
			r.stats.warnf("%s: both a directory and not one in the snapshot", rel)
		}
		return d
	}
	parent := r.ensureDirs(p, path.Dir(rel))
	if parent == nil {
		return nil
	}
	d = &dirEntry{rel: rel, parent: parent}
	p.dirs = append(p.dirs, d)
	p.paths[rel] = d
	return d
}

// expand reads the trees of one level and plans their entries.
func (r *run) expand(ctx context.Context, p *plan, queue []pending) ([]pending, error) {
	ids := make([]blob.ID, 0, len(queue))
	seen := make(map[blob.ID]bool, len(queue))
	for _, q := range queue {
		if !seen[q.id] {
			seen[q.id] = true
			ids = append(ids, q.id)
		}
	}
	trees, err := r.fetchTrees(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	var next []pending
	for _, q := range queue {
		t := trees[q.id]
		for i := range t.Nodes {
			n := &t.Nodes[i]
			if !validName(n.Name) {
				return nil, &FileError{Path: q.dir.rel,
					Err: fmt.Errorf("%w: bad name %q", tree.ErrInvalid, n.Name)}
			}
			if d := r.add(p, q.dir, n.Name, n); d != nil {
				next = append(next, *d)
			}
		}
	}
	return next, nil
}

// add plans node n as name inside parent and returns the directory to read next, if
// n is one. A path the snapshot holds twice keeps its first occurrence, except that
// directories merge.
func (r *run) add(p *plan, parent *dirEntry, name string, n *tree.Node) *pending {
	rel := joinRel(parent.rel, name)
	if !filepath.IsLocal(rel) {
		// Unreachable with checked names; kept so that no later change can escape.
		r.stats.warnf("%q: not a local path, not restored", rel)
		return nil
	}
	prev, dup := p.paths[rel]
	if n.Type == tree.TypeDir {
		return r.addDir(p, parent, rel, n, prev, dup)
	}
	if dup {
		r.stats.warnf("%s: more than once in the snapshot, first kept", rel)
		return nil
	}
	e := &entry{rel: rel, name: name, node: n, dir: parent}
	parent.files = append(parent.files, e)
	p.paths[rel] = nil
	r.addLink(p, e)
	return nil
}

func (r *run) addDir(p *plan, parent *dirEntry, rel string, n *tree.Node,
	prev *dirEntry, dup bool) *pending {
	if n.Subtree == nil {
		r.stats.warnf("%s: directory without contents, not restored", rel)
		return nil
	}
	if dup && prev == nil {
		r.stats.warnf("%s: both a directory and not one in the snapshot", rel)
		return nil
	}
	d := prev
	if d == nil {
		d = &dirEntry{rel: rel, parent: parent}
		p.dirs = append(p.dirs, d)
		p.paths[rel] = d
	}
	if d.node == nil {
		d.node = n
	}
	return &pending{dir: d, id: *n.Subtree}
}

// addLink groups e with the other paths of its file when it is hard-linked.
func (r *run) addLink(p *plan, e *entry) {
	n := e.node
	if n.Type != tree.TypeFile || n.Links < 2 || n.Inode == 0 {
		return
	}
	k := linkKey{dev: n.Device, ino: n.Inode}
	g := p.groups[k]
	if g == nil {
		g = &linkGroup{}
		p.groups[k] = g
	}
	g.members = append(g.members, e)
	e.group = g
}

// fetchTrees reads and checks trees, treeBatch per Source.Get.
func (r *run) fetchTrees(ctx context.Context, ids []blob.ID, root bool) (map[blob.ID]*tree.Tree,
	error) {
	out := make(map[blob.ID]*tree.Tree, len(ids))
	fn := func(id blob.ID, sealed []byte) error {
		t, err := r.openTree(id, sealed, root)
		if err != nil {
			return err
		}
		out[id] = t
		return nil
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), treeBatch)]
		ids = ids[len(batch):]
		if err := r.opt.Source.Get(ctx, batch, fn); err != nil {
			return nil, fmt.Errorf("fetch trees: %w", err)
		}
		for _, id := range batch {
			if out[id] == nil {
				return nil, fmt.Errorf("fetch trees: tree %s not delivered", id)
			}
		}
	}
	return out, nil
}

func (r *run) openTree(id blob.ID, sealed []byte, root bool) (*tree.Tree, error) {
	plain, kind, err := r.opt.Codec.Open(id, sealed)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", id, err)
	}
	if kind != blob.KindTree {
		return nil, fmt.Errorf("tree %s: %w: holds %s", id, blob.ErrCorrupt, kind)
	}
	t, err := tree.Unmarshal(plain, root)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", id, err)
	}
	return t, nil
}

// validName reports whether s is one path element that can neither climb nor split.
// tree.Unmarshal checks this too; the restore does not rely on it alone.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// rootRel maps a root tree's name, a clean absolute path, to a path relative to the
// target ("/" maps to ".").
func rootRel(name string) (string, bool) {
	if name == "/" {
		return ".", true
	}
	rel, ok := strings.CutPrefix(name, "/")
	if !ok {
		return "", false
	}
	for part := range strings.SplitSeq(rel, "/") {
		if !validName(part) {
			return "", false
		}
	}
	return rel, filepath.IsLocal(rel)
}

// joinRel joins a directory's relative path and a checked name.
func joinRel(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}
