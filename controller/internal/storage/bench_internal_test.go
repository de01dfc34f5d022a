package storage

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkReadAt compares reads through the cache of open files with an open and a close
// per read, for small and pack-sized blobs spread over 32 objects.
func BenchmarkReadAt(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		for _, files := range []int{0, defaultOpenFiles} {
			b.Run(fmt.Sprintf("blob=%d/open_files=%d", size, files), func(b *testing.B) {
				benchmarkReadAt(b, size, files)
			})
		}
	}
}

func benchmarkReadAt(b *testing.B, size, files int) {
	ctx := context.Background()
	l, err := NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	l.files = newHandles(files)
	const objects, perObject = 32, 8
	for i := range objects {
		f, err := os.CreateTemp(l.TempDir(), "b-*")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(make([]byte, size*perObject)); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
		if err := l.PutFile(ctx, fmt.Sprintf("packs/%02d", i), f.Name()); err != nil {
			b.Fatal(err)
		}
	}
	p := make([]byte, size)
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("packs/%02d", i%objects)
		if _, err := l.ReadAt(ctx, name, p, int64((i/objects)%perObject*size)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
