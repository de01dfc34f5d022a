package restore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchTree generates a tree of dirs directories of 64 small files each and four large
// files of large bytes, with random (incompressible) content, and returns it with its
// content size.
func benchTree(dirs, large int) (fsNode, int64) {
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	var total int64
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		total += int64(n)
		return b
	}
	root := fsNode{name: "/data", typ: "dir", mode: 0o755}
	for d := range dirs {
		sub := fsNode{name: fmt.Sprintf("dir%d", d), typ: "dir", mode: 0o755}
		for f := range 64 {
			sub.children = append(sub.children, fsNode{name: fmt.Sprintf("small%03d", f),
				data: fill(1024 + rng.IntN(128<<10)), mode: 0o644})
		}
		root.children = append(root.children, sub)
	}
	for f := range 4 {
		root.children = append(root.children, fsNode{name: fmt.Sprintf("large%d", f),
			data: fill(large), mode: 0o644})
	}
	return root, total
}

func BenchmarkRestore(b *testing.B) {
	b.Run("mixed", func(b *testing.B) { benchRestore(b, 8, 16<<20) })
	b.Run("small", func(b *testing.B) { benchRestore(b, 16, 0) })
	b.Run("large", func(b *testing.B) { benchRestore(b, 0, 64<<20) })
}

func benchRestore(b *testing.B, dirs, large int) {
	s := newSnapshots(b)
	s.chunk = 1 << 20
	desc, total := benchTree(dirs, large)
	root := s.build(desc)
	base := b.TempDir()
	b.SetBytes(total)
	b.ResetTimer()
	for i := range b.N {
		target := filepath.Join(base, fmt.Sprint(i))
		res, err := Run(context.Background(), s.options(root, target))
		require.NoError(b, err)
		require.Equal(b, total, res.Bytes)

		b.StopTimer()
		require.NoError(b, os.RemoveAll(target))
		b.StartTimer()
	}
}
