//go:build linux

package backup

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/restic/chunker"
	"golang.org/x/sys/unix"

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
	f.cachedRun(b, root, path, nil)
	b.SetBytes(total)
	for b.Loop() {
		f.cachedRun(b, root, path, nil)
	}
}

// cachedRun backs up root with the cache kept at path and saves the cache.
func (f *fixture) cachedRun(b *testing.B, root, path string, progress func(Progress)) *Result {
	c, err := cache.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	o := f.benchOptions(root)
	o.Cache, o.Progress = c, progress
	res, err := Run(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Save(); err != nil {
		b.Fatal(err)
	}
	return res
}

// manyFilesTree writes 20,000 small files in 200 directories, the shape that makes an
// unchanged backup cost metadata rather than data.
func manyFilesTree(b *testing.B) string {
	b.Helper()
	root := filepath.Join(b.TempDir(), "src")
	text := bytes.Repeat([]byte("grim reaper backs up the whole host, line after line\n"), 64)
	for i := range 20_000 {
		writeFile(b, filepath.Join(root, fmt.Sprintf("d%03d/f%05d", i%200, i)),
			text[i%1000:i%1000+1024+i%997])
	}
	return root
}

// BenchmarkUnchangedManyFiles backs up a tree of many small files again with the cache
// and a progress listener, as an agent's job does: the cost is walking, stating, the cache
// and the trees, with the store in memory. Reported per file.
func BenchmarkUnchangedManyFiles(b *testing.B) {
	root := manyFilesTree(b)
	f := newFixture(b)
	f.store.discard = true
	path := filepath.Join(b.TempDir(), "cache")
	progress := func(Progress) {}
	f.cachedRun(b, root, path, progress)
	cpu := processCPU()
	for b.Loop() {
		res := f.cachedRun(b, root, path, progress)
		if res.FilesFromCache != res.Files {
			b.Fatalf("%d of %d files from the cache", res.FilesFromCache, res.Files)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*20_000), "ns/file")
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N*20_000), "cpu-ns/file")
}

// processCPU is the CPU time the process has used, user and system: on a machine shared
// with other work it moves far less from run to run than the wall time.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (f *fixture) benchOptions(root string) Options {
	o := f.options(root)
	o.Concurrency, o.onRead = 0, nil
	return o
}
