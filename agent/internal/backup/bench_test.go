//go:build linux

package backup

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/restic/chunker"

	"github.com/grim-reaper/grim/agent/internal/cache"
)

// BenchmarkChunker measures content-defined chunking alone, with the buffers reused as the
// workers reuse them.
func BenchmarkChunker(b *testing.B) {
	data := randomBytes(1, 64<<20)
	f := newFixture(b)
	ch := chunker.New(nil, f.keys.Polynomial)
	buf := make([]byte, 0, chunker.MaxSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ch.Reset(bytes.NewReader(data), f.keys.Polynomial)
		for {
			c, err := ch.Next(buf)
			if err != nil {
				break
			}
			buf = c.Data[:0]
		}
	}
}

// BenchmarkChunkAndHash adds naming each chunk to chunking.
func BenchmarkChunkAndHash(b *testing.B) {
	data := randomBytes(1, 64<<20)
	f := newFixture(b)
	ch := chunker.New(nil, f.keys.Polynomial)
	buf := make([]byte, 0, chunker.MaxSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ch.Reset(bytes.NewReader(data), f.keys.Polynomial)
		for {
			c, err := ch.Next(buf)
			if err != nil {
				break
			}
			f.codec.ID(c.Data)
			buf = c.Data[:0]
		}
	}
}

// benchTree writes a tree of many small files, some medium ones and a few big ones, half
// of the data compressible, and returns its root and size.
func benchTree(b *testing.B) (string, int64) {
	b.Helper()
	root := filepath.Join(b.TempDir(), "src")
	var total int64
	write := func(name string, data []byte) {
		writeFile(b, filepath.Join(root, name), data)
		total += int64(len(data))
	}
	text := bytes.Repeat([]byte("grim reaper backs up the whole host, line after line\n"), 1<<15)
	for i := range 2000 {
		data := randomBytes(uint64(i), 1<<10+i*16)
		if i%2 == 0 {
			data = text[i : i+len(data)]
		}
		write(fmt.Sprintf("small/%02d/%d", i%50, i), data)
	}
	for i := range 8 {
		write(fmt.Sprintf("medium/%d", i), randomBytes(uint64(100+i), 3<<20))
	}
	write("big/random", randomBytes(200, 32<<20))
	write("big/text", bytes.Repeat(text[:1<<20], 24))
	return root, total
}

// BenchmarkPipeline backs up a fresh tree into an empty store: walk, read, chunk, hash,
// ask, seal and Put everything.
func BenchmarkPipeline(b *testing.B) {
	root, total := benchTree(b)
	f := newFixture(b)
	b.SetBytes(total)
	for b.Loop() {
		f.store = newMemStore()
		f.store.discard = true
		if _, err := Run(context.Background(), f.benchOptions(root)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineUnchanged backs up the same tree again without a cache: everything is
// read, chunked and hashed, nothing is sealed.
func BenchmarkPipelineUnchanged(b *testing.B) {
	root, total := benchTree(b)
	f := newFixture(b)
	f.store.discard = true
	if _, err := Run(context.Background(), f.benchOptions(root)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	for b.Loop() {
		if _, err := Run(context.Background(), f.benchOptions(root)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineCached backs up the same tree again with the cache: only metadata is
// read, and the cached chunks are checked with the store.
func BenchmarkPipelineCached(b *testing.B) {
	root, total := benchTree(b)
	f := newFixture(b)
	f.store.discard = true
	path := filepath.Join(b.TempDir(), "cache")
	run := func() {
		c, err := cache.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		o := f.benchOptions(root)
		o.Cache = c
		if _, err := Run(context.Background(), o); err != nil {
			b.Fatal(err)
		}
		if err := c.Save(); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.SetBytes(total)
	for b.Loop() {
		run()
	}
}

func (f *fixture) benchOptions(root string) Options {
	o := f.options(root)
	o.Concurrency, o.onRead = 0, nil
	return o
}
