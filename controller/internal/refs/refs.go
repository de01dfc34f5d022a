// Package refs finds what an account's snapshots reference: it walks their trees from
// the roots, opening each tree blob with the account's keys, and collects the trees and
// data chunks they name. Garbage collection keeps what it finds; the storage check
// verifies it and traces damage back to the snapshots it touches.
//
// The controller opens tree blobs here and nowhere else, and never a data chunk: trees
// hold names and metadata, which the walk keeps in memory for its length and never
// writes, logs or returns to a client.
package refs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// batch is how many trees one read asks for.
const batch = 256

// Reader reads sealed blobs of an account, as repo.Repo does.
type Reader interface {
	Get(ctx context.Context, accountID string, ids []blob.ID,
		fn func(id blob.ID, sealed []byte) error) error
}

// Node is what a tree names: the trees of its directories and the chunks of its files.
type Node struct {
	Subtrees []blob.ID
	Content  []blob.ID
}

// Graph is the result of a walk: every tree reached and what it names, the trees that
// could not be read or opened, and the roots of each snapshot.
type Graph struct {
	Trees map[blob.ID]*Node
	Bad   map[blob.ID]error
	Roots map[string][]blob.ID // backup id → roots
}

// Roots returns the roots of a snapshot: its filesystem tree, if any, and the tree of
// each database it dumped.
func Roots(s store.Snapshot) ([]blob.ID, error) {
	var out []blob.ID
	add := func(hex string) error {
		if hex == "" {
			return nil
		}
		id, err := blob.ParseID(hex)
		if err != nil {
			return fmt.Errorf("backup %s: root %q: %w", s.BackupID, hex, err)
		}
		out = append(out, id)
		return nil
	}
	if err := add(s.Root); err != nil {
		return nil, err
	}
	var results []struct {
		Type string `json:"type"`
		Root string `json:"root"`
	}
	if s.SourceResults != "" {
		if err := json.Unmarshal([]byte(s.SourceResults), &results); err != nil {
			return nil, fmt.Errorf("backup %s: source results: %w", s.BackupID, err)
		}
	}
	for _, r := range results {
		if r.Type == "database" {
			if err := add(r.Root); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Walk reads every tree that snaps reach, each once however many snapshots share it,
// level by level in batches. A tree that cannot be read or does not open is recorded in
// Graph.Bad and the walk goes on; err is only for a canceled ctx or a snapshot whose
// roots cannot be parsed.
func Walk(ctx context.Context, r Reader, keys *blob.Keys, accountID string,
	snaps []store.Snapshot) (*Graph, error) {
	codec, err := blob.NewCodec(keys, "", "")
	if err != nil {
		return nil, fmt.Errorf("walk account %s: %w", accountID, err)
	}
	g := &Graph{Trees: make(map[blob.ID]*Node), Bad: make(map[blob.ID]error),
		Roots: make(map[string][]blob.ID, len(snaps))}
	seen := make(map[blob.ID]bool)
	var level []blob.ID
	for _, s := range snaps {
		roots, err := Roots(s)
		if err != nil {
			return nil, err
		}
		g.Roots[s.BackupID] = roots
		for _, id := range roots {
			if !seen[id] {
				seen[id] = true
				level = append(level, id)
			}
		}
	}
	w := &walk{r: r, codec: codec, account: accountID, g: g}
	for len(level) > 0 {
		var next []blob.ID
		for start := 0; start < len(level); start += batch {
			ids := level[start:min(start+batch, len(level))]
			if err := w.read(ctx, ids); err != nil {
				return nil, err
			}
			for _, id := range ids {
				for _, sub := range nodeSubtrees(g.Trees[id]) {
					if !seen[sub] {
						seen[sub] = true
						next = append(next, sub)
					}
				}
			}
		}
		level = next
	}
	return g, nil
}

func nodeSubtrees(n *Node) []blob.ID {
	if n == nil {
		return nil
	}
	return n.Subtrees
}

// Live returns every blob the walk reached: trees and chunks.
func (g *Graph) Live() map[blob.ID]struct{} {
	out := make(map[blob.ID]struct{}, 2*len(g.Trees))
	for id, n := range g.Trees {
		out[id] = struct{}{}
		for _, c := range n.Content {
			out[c] = struct{}{}
		}
	}
	for id := range g.Bad {
		out[id] = struct{}{}
	}
	return out
}

// walk is the state of one Walk.
type walk struct {
	r       Reader
	codec   *blob.Codec
	account string
	g       *Graph
}

// read opens the trees ids, recording each in g.Trees or g.Bad. A read that fails for
// the batch is retried one tree at a time, so one missing tree does not hide the others.
func (w *walk) read(ctx context.Context, ids []blob.ID) error {
	err := w.r.Get(ctx, w.account, ids, w.open)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, id := range ids {
		if _, done := w.g.Trees[id]; done {
			continue
		}
		if err := w.r.Get(ctx, w.account, []blob.ID{id}, w.open); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.g.Bad[id] = err
		}
	}
	return nil
}

// open decrypts one tree and records what it names.
func (w *walk) open(id blob.ID, sealed []byte) error {
	plain, kind, err := w.codec.Open(id, sealed)
	if err == nil && kind != blob.KindTree {
		err = fmt.Errorf("%w: blob %s is not a tree", blob.ErrCorrupt, id)
	}
	var t tree.Tree
	if err == nil {
		// Root trees name absolute paths and stream snapshots parts: only the references
		// matter here, so the names are not checked.
		err = json.Unmarshal(plain, &t)
	}
	if err != nil {
		w.g.Bad[id] = fmt.Errorf("open tree %s: %w", id, err)
		return nil
	}
	n := &Node{}
	for i := range t.Nodes {
		if s := t.Nodes[i].Subtree; s != nil {
			n.Subtrees = append(n.Subtrees, *s)
		}
		n.Content = append(n.Content, t.Nodes[i].Content...)
	}
	delete(w.g.Bad, id)
	w.g.Trees[id] = n
	return nil
}

// ErrUnreadable means a walk met trees it could not read: what they reference is unknown.
var ErrUnreadable = errors.New("snapshot trees unreadable")
