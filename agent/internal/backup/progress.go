package backup

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// progressEvery is the period of Progress calls.
const progressEvery = 250 * time.Millisecond

// startProgress starts the scan for totals and the periodic Progress calls, if anyone
// listens, and returns a function that stops both and waits for them.
func (r *run) startProgress(ctx context.Context) (stop func()) {
	if r.opts.Progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, p := range r.paths {
			r.scan(ctx, p)
		}
	})
	wg.Go(func() { r.tick(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

func (r *run) tick(ctx context.Context) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.opts.Progress(r.progress())
		}
	}
}

// progress returns the counts so far; a total never shows below what is done.
func (r *run) progress() Progress {
	p := Progress{
		FilesDone:  r.stats.filesDone.Load(),
		FilesTotal: r.stats.filesTotal.Load(),
		BytesDone:  r.stats.bytesDone.Load(),
		BytesTotal: r.stats.bytesTotal.Load(),
	}
	p.FilesTotal = max(p.FilesTotal, p.FilesDone)
	p.BytesTotal = max(p.BytesTotal, p.BytesDone)
	return p
}

// reportFinal makes the last Progress call, whose totals are what was done.
func (r *run) reportFinal() {
	if r.opts.Progress == nil {
		return
	}
	p := r.progress()
	p.FilesTotal, p.BytesTotal = p.FilesDone, p.BytesDone
	r.opts.Progress(p)
}

// scan counts the regular files under path and their sizes, skipping what the backup
// skips. It only feeds progress, so it ignores errors.
func (r *run) scan(ctx context.Context, path string) {
	var st unix.Stat_t
	if ctx.Err() != nil || lstat(path, &st) != nil {
		return
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		r.stats.filesTotal.Add(1)
		r.stats.bytesTotal.Add(st.Size)
	case unix.S_IFDIR:
		kids, _, err := readDir(path)
		if err != nil {
			return
		}
		for _, c := range r.keep(path, kids) {
			r.scan(ctx, joinPath(path, c.name))
		}
	}
}
