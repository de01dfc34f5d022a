package dataset

import (
	"fmt"
	"io/fs"
	"path/filepath"
)

// Stats is what a tree holds.
type Stats struct {
	Files int   `json:"files"`
	Dirs  int   `json:"dirs"`
	Bytes int64 `json:"bytes"` // logical bytes of the regular files
}

// Measure counts the regular files, directories and logical bytes below root.
func Measure(root string) (Stats, error) {
	var st Stats
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			st.Dirs++
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			st.Files++
			st.Bytes += info.Size()
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("measure %s: %w", root, err)
	}
	return st, nil
}
