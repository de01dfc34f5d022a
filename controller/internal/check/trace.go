package check

import (
	"sort"

	"github.com/grim-reaper/grim/controller/internal/refs"
	"github.com/grim-reaper/grim/protocol/blob"
)

// tracer finds which damage each snapshot reaches: a damaged pack that holds one of its
// trees or chunks, or a blob of it that no pack holds (the key "").
type tracer struct {
	g      *refs.Graph
	bad    map[string]string    // damaged pack → problem
	packOf map[blob.ID]string   // where the index places each blob the walk reached
	memo   map[blob.ID][]string // tree → the damage keys it reaches, sorted
}

// missingCount counts the blobs the walk reached that no pack holds.
func (t *tracer) missingCount() int {
	n := 0
	for id := range t.g.Live() {
		if _, ok := t.packOf[id]; !ok {
			n++
		}
	}
	return n
}

// affected maps each damage key to the backups that reach it, sorted.
func (t *tracer) affected() map[string][]string {
	out := map[string][]string{}
	backups := make([]string, 0, len(t.g.Roots))
	for b := range t.g.Roots {
		backups = append(backups, b)
	}
	sort.Strings(backups)
	for _, b := range backups {
		keys := map[string]bool{}
		for _, root := range t.g.Roots[b] {
			for _, k := range t.reach(root) {
				keys[k] = true
			}
		}
		for k := range keys {
			out[k] = append(out[k], b)
		}
	}
	return out
}

// reach returns the damage keys the tree id and everything below it reach. Trees are
// content-addressed, so they cannot form a cycle; the memo's early nil entry would stop
// one all the same.
func (t *tracer) reach(id blob.ID) []string {
	if r, ok := t.memo[id]; ok {
		return r
	}
	t.memo[id] = nil
	set := map[string]bool{}
	t.mark(id, set)
	if _, bad := t.g.Bad[id]; bad {
		set[t.packOf[id]] = true
	}
	if n := t.g.Trees[id]; n != nil {
		for _, c := range n.Content {
			t.mark(c, set)
		}
		for _, s := range n.Subtrees {
			for _, k := range t.reach(s) {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	t.memo[id] = out
	return out
}

// mark adds the damage key of blob id to set, if its pack is damaged or it has none.
func (t *tracer) mark(id blob.ID, set map[string]bool) {
	p, ok := t.packOf[id]
	switch {
	case !ok:
		set[""] = true
	case t.bad[p] != "":
		set[p] = true
	}
}
