package restore

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxWarnings caps Result.Warnings: a file system without extended attributes would
// otherwise add one per file.
const maxWarnings = 1000

// stats counts a restore's work; workers update it concurrently.
type stats struct {
	filesDone, filesTotal atomic.Int64
	bytesDone, bytesTotal atomic.Int64
	files, dirs, bytes    atomic.Int64

	mu       sync.Mutex // guards skipped, warnings and dropped
	skipped  []string
	warnings []string
	dropped  int // warnings past maxWarnings
}

// skip records a path left alone because something was there.
func (s *stats) skip(rel string) {
	s.mu.Lock()
	s.skipped = append(s.skipped, rel)
	s.mu.Unlock()
}

func (s *stats) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.warnings) >= maxWarnings {
		s.dropped++
		return
	}
	s.warnings = append(s.warnings, msg)
}

// done counts one non-directory path processed; size is added to the processed bytes
// when the path's content was not written (skipped), so the totals are reached.
func (s *stats) done(created bool, unwritten int64) {
	s.filesDone.Add(1)
	s.bytesDone.Add(unwritten)
	if created {
		s.files.Add(1)
	}
}

func (s *stats) progress() Progress {
	return Progress{
		FilesDone: s.filesDone.Load(), FilesTotal: s.filesTotal.Load(),
		BytesDone: s.bytesDone.Load(), BytesTotal: s.bytesTotal.Load(),
	}
}

func (s *stats) result() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &Result{Files: s.files.Load(), Dirs: s.dirs.Load(), Bytes: s.bytes.Load(),
		Skipped: sortedCopy(s.skipped), Warnings: append([]string(nil), s.warnings...)}
	if s.dropped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d more warnings", s.dropped))
	}
	return res
}

// report calls fn every progressEvery until the returned stop is called; stop waits for
// the reporting goroutine and calls fn a last time.
func (s *stats) report(fn func(Progress)) (stop func()) {
	if fn == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn(s.progress())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		fn(s.progress())
	}
}
