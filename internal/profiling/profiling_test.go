package profiling

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartWritesProfileOnlyWhenAsked(t *testing.T) {
	stop, err := Start("prog", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	stop()

	dir := t.TempDir()
	stop, err = Start("prog", func(k string) string {
		if k == EnvVar {
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1e6; i++ {
		_ = filepath.Join("a", "b")
	}
	stop()
	matches, _ := filepath.Glob(filepath.Join(dir, "prog-*.cpu.pprof"))
	if len(matches) != 1 {
		t.Fatalf("profiles written: %v", matches)
	}
	if fi, err := os.Stat(matches[0]); err != nil || fi.Size() == 0 {
		t.Fatalf("profile empty or missing: %v", err)
	}
}

func TestStartFailsOnMissingDirectory(t *testing.T) {
	_, err := Start("prog", func(string) string { return "/nonexistent/dir/for/profiles" })
	if err == nil {
		t.Fatal("want an error for a directory that does not exist")
	}
}
