package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sync/errgroup"
)

const (
	// maxReported is how many differences a DiffError lists; it counts them all.
	maxReported = 10
	// compareWorkers is how many files are compared at once; reading is most of the work,
	// and a disk serves a few readers faster than one.
	compareWorkers = 4
)

// DiffError is a restored tree that is not the same as its source.
type DiffError struct {
	Count int      // differences found
	First []string // the first few, one line each
}

func (e *DiffError) Error() string {
	return fmt.Sprintf("%d differences, first: %v", e.Count, e.First)
}

func (e *DiffError) add(format string, args ...any) {
	e.Count++
	if len(e.First) < maxReported {
		e.First = append(e.First, fmt.Sprintf(format, args...))
	}
}

// Equal reports whether the tree below got holds the same directories and regular files,
// byte for byte, as the tree below want. It returns a *DiffError when they differ and
// another error when a tree cannot be read.
func Equal(want, got string) error {
	wantEntries, err := entries(want)
	if err != nil {
		return err
	}
	gotEntries, err := entries(got)
	if err != nil {
		return err
	}
	diff := &DiffError{}
	var regular []string
	for _, rel := range slices.Sorted(maps.Keys(wantEntries)) {
		w := wantEntries[rel]
		g, ok := gotEntries[rel]
		switch {
		case !ok:
			diff.add("%s: missing", rel)
		case w.Type() != g.Type():
			diff.add("%s: type %v, want %v", rel, g.Type(), w.Type())
		case w.Type().IsRegular():
			regular = append(regular, rel)
		}
	}
	for i, err := range compareAll(want, got, regular) {
		if err != nil {
			diff.add("%s: %v", regular[i], err)
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(gotEntries)) {
		if _, ok := wantEntries[rel]; !ok {
			diff.add("%s: not in the source", rel)
		}
	}
	if diff.Count > 0 {
		return diff
	}
	return nil
}

// entries lists the entries below root by relative path, root itself left out.
func entries(root string) (map[string]fs.FileMode, error) {
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != root {
			rel, _ := filepath.Rel(root, path)
			out[rel] = d.Type()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	return out, nil
}

// errDiffer is content that differs; sameContent says where.
var errDiffer = errors.New("content differs")

// compareAll compares the files at rels below want and got, a few at a time, and returns
// an error for each that differs, in the order of rels.
func compareAll(want, got string, rels []string) []error {
	errs := make([]error, len(rels))
	var g errgroup.Group
	g.SetLimit(compareWorkers)
	for i, rel := range rels {
		g.Go(func() error {
			errs[i] = sameContent(filepath.Join(want, rel), filepath.Join(got, rel))
			return nil
		})
	}
	_ = g.Wait() // the workers report through errs
	return errs
}

// sameContent compares two files: their sizes, then their bytes block by block.
func sameContent(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	sa, err := fa.Stat()
	if err != nil {
		return err
	}
	sb, err := fb.Stat()
	if err != nil {
		return err
	}
	size := sa.Size()
	if sb.Size() != size {
		return fmt.Errorf("%w: %d bytes, want %d", errDiffer, sb.Size(), size)
	}
	block := min(size, MiB)
	bufA, bufB := make([]byte, block), make([]byte, block)
	for off := int64(0); off < size; off += block {
		n := min(block, size-off)
		if _, err := io.ReadFull(fa, bufA[:n]); err != nil {
			return err
		}
		if _, err := io.ReadFull(fb, bufB[:n]); err != nil {
			return err
		}
		if !bytes.Equal(bufA[:n], bufB[:n]) {
			return fmt.Errorf("%w in the block at byte %d", errDiffer, off)
		}
	}
	return nil
}
