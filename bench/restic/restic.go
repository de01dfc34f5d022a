// Package restic runs restic for the benchmark, as the reference to compare with: a local
// repository in a work directory, compression on (repository format 2, `--compression
// auto`, restic's default), one process per operation.
package restic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/grim-reaper/grim/bench/proc"
	"github.com/grim-reaper/grim/bench/suite"
	"github.com/grim-reaper/grim/bench/usage"
)

// host names the snapshots, so each backup finds the previous one as its parent.
const host = "bench"

// Repo is an initialised restic repository.
type Repo struct {
	bin     string // the restic executable
	dir     string // the repository
	env     []string
	version string
}

// Init creates a repository below workDir, with its cache beside it, using the restic
// executable bin.
func Init(ctx context.Context, bin, workDir string) (*Repo, error) {
	r := &Repo{bin: bin, dir: filepath.Join(workDir, "repo"), env: []string{
		"RESTIC_PASSWORD=grim-bench",
		"RESTIC_CACHE_DIR=" + filepath.Join(workDir, "cache"),
	}}
	out, err := r.run(ctx, "version")
	if err != nil {
		return nil, err
	}
	r.version = strings.TrimSpace(string(out.Stdout))
	if _, err := r.run(ctx, "init", "--repository-version", "2"); err != nil {
		return nil, err
	}
	return r, nil
}

// Name is the tool's name in the results.
func (r *Repo) Name() string { return "restic" }

// Version is what `restic version` printed.
func (r *Repo) Version() string { return r.version }

// RepoDir is the repository.
func (r *Repo) RepoDir() string { return r.dir }

// RestoredRoot is dst plus the absolute path that was backed up, as restic restores it.
func (r *Repo) RestoredRoot(dst, src string) string { return filepath.Join(dst, src) }

// summary is the last line of `restic backup --json`.
type summary struct {
	MessageType   string  `json:"message_type"`
	DataAdded     int64   `json:"data_added"`
	TotalDuration float64 `json:"total_duration"`
	FilesNew      int64   `json:"files_new"`
	FilesChanged  int64   `json:"files_changed"`
	SnapshotID    string  `json:"snapshot_id"`
}

// Backup backs up src, which must be absolute; restic picks the last snapshot of the
// same host and path as the parent, so unchanged files are not read again.
func (r *Repo) Backup(ctx context.Context, src string) (suite.Outcome, error) {
	res, err := r.run(ctx, "backup", "--host", host, "--compression", "auto", "--json", src)
	if err != nil {
		return suite.Outcome{}, err
	}
	s, err := lastSummary(res.Stdout)
	if err != nil {
		return suite.Outcome{}, err
	}
	return suite.Outcome{
		Processes:   processes(res),
		StoredBytes: &s.DataAdded,
		Seconds:     &s.TotalDuration,
		Extra:       map[string]int64{"files_new": s.FilesNew, "files_changed": s.FilesChanged},
	}, nil
}

// Restore restores the latest snapshot into dst.
func (r *Repo) Restore(ctx context.Context, dst string) (suite.Outcome, error) {
	res, err := r.run(ctx, "restore", "latest", "--host", host, "--target", dst)
	if err != nil {
		return suite.Outcome{}, err
	}
	return suite.Outcome{Processes: processes(res)}, nil
}

// processes is what the kernel counted of a command that ran to its end; its peak memory
// is exact.
func processes(res proc.Result) map[string]usage.Process {
	return map[string]usage.Process{"restic": {PeakRSS: res.MaxRSS, Exact: true,
		CPUSeconds: res.CPU.Seconds()}}
}

// run runs restic on the repository.
func (r *Repo) run(ctx context.Context, args ...string) (proc.Result, error) {
	full := append([]string{"--repo", r.dir}, args...)
	res, err := proc.Run(ctx, r.env, r.bin, full...)
	if err != nil {
		return res, fmt.Errorf("restic %s: %w: %s", args[0], err,
			strings.TrimSpace(string(res.Stderr)))
	}
	return res, nil
}

// lastSummary finds the summary among the JSON lines restic printed.
func lastSummary(out []byte) (summary, error) {
	var found *summary
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var s summary
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.MessageType == "summary" {
			found = &s
		}
	}
	if found == nil {
		return summary{}, errors.New("restic backup printed no summary")
	}
	return *found, nil
}
