package dataset

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// Generate writes the first version of the data set s below root, which must not exist
// yet, and returns what it holds. Files are written in parallel; their names and bytes
// depend only on s.
func Generate(ctx context.Context, root string, s Spec) (Stats, error) {
	if err := s.Validate(); err != nil {
		return Stats{}, err
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		return Stats{}, fmt.Errorf("create data set root: %w", err)
	}
	p := newPlan(s)
	vocab := newVocabulary(s.Seed)

	// Originals first, then the copies that read them.
	originals := append(append([]file{}, p.text...), p.large...)
	if err := writeAll(ctx, root, originals, vocab); err != nil {
		return Stats{}, err
	}
	if err := writeAll(ctx, root, p.copies, vocab); err != nil {
		return Stats{}, err
	}
	return Measure(root)
}

// writeAll writes files below root, a few at a time.
func writeAll(ctx context.Context, root string, files []file, vocab vocabulary) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, f := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return writeFile(root, f, vocab)
		})
	}
	return g.Wait()
}

// writeFile creates one planned file and its directories.
func writeFile(root string, f file, vocab vocabulary) (err error) {
	path := filepath.Join(root, filepath.FromSlash(f.rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory of %s: %w", f.rel, err)
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", f.rel, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", f.rel, cerr)
		}
	}()
	if err := writeContent(out, root, f, vocab); err != nil {
		return fmt.Errorf("write %s: %w", f.rel, err)
	}
	return nil
}

// writeContent writes the bytes of f to w.
func writeContent(w io.Writer, root string, f file, vocab vocabulary) error {
	switch f.kind {
	case kindText:
		return vocab.writeText(w, f.size, f.key)
	case kindRandom:
		return writeRandom(w, f.size, f.key)
	case kindCopy:
		in, err := os.Open(filepath.Join(root, filepath.FromSlash(f.src)))
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	}
	return fmt.Errorf("unknown kind %d", f.kind)
}
