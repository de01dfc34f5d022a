package tree

import (
	"fmt"
	"testing"
	"time"

	"github.com/grim-reaper/grim/protocol/blob"
)

// benchTree is a directory of a thousand files of a few chunks each.
func benchTree() Tree {
	now := time.Now()
	nodes := make([]Node, 1000)
	for i := range nodes {
		nodes[i] = Node{Name: fmt.Sprintf("file-%04d.dat", 999-i), Type: TypeFile, Mode: 0o644,
			UID: 1000, GID: 1000, User: "alice", Group: "alice", ModTime: now, AccessTime: now,
			ChangeTime: now, Size: 3 << 20, Inode: uint64(i), Device: 2049, Links: 1,
			Content: []blob.ID{{byte(i)}, {byte(i), 1}, {byte(i), 2}}}
	}
	return Tree{Nodes: nodes}
}

func BenchmarkMarshal(b *testing.B) {
	t := benchTree()
	data, err := t.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := t.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	t := benchTree()
	data, err := t.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Unmarshal(data, false); err != nil {
			b.Fatal(err)
		}
	}
}
