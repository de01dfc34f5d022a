// Package suite runs the benchmark's phases against each backup tool on the same data set
// and measures them alike: wall time, growth of the tool's repository, and the peak
// memory and CPU time of its processes.
package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/grim-reaper/grim/bench/dataset"
	"github.com/grim-reaper/grim/bench/usage"
)

// Phases, in the order they run.
const (
	PhaseInitial   = "initial"   // first backup of version 1
	PhaseUnchanged = "unchanged" // backup of version 1 again
	PhaseChanged   = "changed"   // backup after the tree became version 2
	PhaseRestore   = "restore"   // full restore of the last backup into an empty directory
)

// Phases lists the phases in order.
var Phases = []string{PhaseInitial, PhaseUnchanged, PhaseChanged, PhaseRestore}

// Tool is a backup program under test. Each method runs one operation to its end.
type Tool interface {
	Name() string
	// Version is the tool's own version line.
	Version() string
	// Backup backs up the directory src.
	Backup(ctx context.Context, src string) (Outcome, error)
	// Restore restores the last backup into dst, an empty directory.
	Restore(ctx context.Context, dst string) (Outcome, error)
	// RestoredRoot is where below dst a restore puts the tree that was backed up from src.
	RestoredRoot(dst, src string) string
	// RepoDir is the directory that holds what the tool stores.
	RepoDir() string
}

// Outcome is what a tool tells of one operation beyond what the suite measures itself.
type Outcome struct {
	// Processes is what each of the tool's processes used, by name.
	Processes map[string]usage.Process
	// StoredBytes is the new bytes the tool says it stored, when it says.
	StoredBytes *int64
	// Seconds is the tool's own timing of the operation, when it gives one.
	Seconds *float64
	// Extra holds other counts worth a footnote, by name.
	Extra map[string]int64
	// Warnings are what the tool warned of; the operation still succeeded.
	Warnings []string
}

// Config is one benchmark run.
type Config struct {
	Spec    dataset.Spec
	WorkDir string // an empty directory for the data set and the restores
	Tools   []Tool
	// DropCaches asks to empty the page cache before every phase. When the kernel refuses,
	// every phase runs with a warm cache instead, for every tool alike.
	DropCaches bool
	Log        io.Writer // progress, one line per step
}

// Run generates the data set, runs every phase for every tool, and verifies each restore
// byte for byte. On error it returns what it measured so far with the error.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	r := &runner{cfg: cfg, src: filepath.Join(cfg.WorkDir, "data"),
		res: &Results{Started: time.Now().UTC(), Spec: cfg.Spec}}
	for _, t := range cfg.Tools {
		r.res.Tools = append(r.res.Tools, ToolResults{Name: t.Name(), Version: t.Version()})
	}
	err := r.run(ctx)
	r.res.Finished = time.Now().UTC()
	return r.res, err
}

// runner carries one run's state between its steps.
type runner struct {
	cfg Config
	src string // the data set root
	res *Results
}

func (r *runner) run(ctx context.Context) error {
	if err := r.generate(ctx); err != nil {
		return err
	}
	r.res.Cache = r.cacheMode()
	r.logf("page cache: %s", r.res.Cache)

	for _, phase := range []string{PhaseInitial, PhaseUnchanged} {
		if err := r.backupAll(ctx, phase, r.res.V1.Bytes); err != nil {
			return err
		}
	}
	if err := r.mutate(ctx); err != nil {
		return err
	}
	if err := r.backupAll(ctx, PhaseChanged, r.res.V2.Bytes); err != nil {
		return err
	}
	return r.restoreAll(ctx)
}

// restoreRounds is how often each tool restores. Creating files costs very different
// amounts of CPU from one directory to the next on some file systems (ext4 skips inodes
// freed in the last minutes, and how many there are depends on where a directory lands),
// which made one restore of each tool a lottery. Each tool keeps its faster round, and
// the order of the tools is reversed in the second, so neither always follows the other's
// deletion.
const restoreRounds = 2

// restoreAll runs the restore rounds and keeps each tool's faster one.
func (r *runner) restoreAll(ctx context.Context) error {
	n := len(r.cfg.Tools)
	best := make([]*PhaseResult, n)
	walls := make([][]float64, n)
	for round := range restoreRounds {
		for k := range n {
			i := k
			if round%2 == 1 {
				i = n - 1 - k
			}
			p, err := r.restore(ctx, i, r.cfg.Tools[i])
			if err != nil {
				return err
			}
			walls[i] = append(walls[i], p.Seconds)
			if best[i] == nil || p.Seconds < best[i].Seconds {
				best[i] = &p
			}
		}
	}
	for i, p := range best {
		p.RoundSeconds = walls[i]
		r.res.Tools[i].Phases = append(r.res.Tools[i].Phases, *p)
	}
	return nil
}

// generate writes version 1 of the data set.
func (r *runner) generate(ctx context.Context) error {
	start := time.Now()
	st, err := dataset.Generate(ctx, r.src, r.cfg.Spec)
	if err != nil {
		return fmt.Errorf("generate data set: %w", err)
	}
	r.res.V1, r.res.GenerateSeconds = st, time.Since(start).Seconds()
	r.logf("data set v1: %d files, %s in %.1f s", st.Files, megabytes(st.Bytes),
		r.res.GenerateSeconds)
	return nil
}

// mutate turns the data set into version 2.
func (r *runner) mutate(ctx context.Context) error {
	ch, err := dataset.Mutate(ctx, r.src, r.cfg.Spec)
	if err != nil {
		return fmt.Errorf("make data set v2: %w", err)
	}
	st, err := dataset.Measure(r.src)
	if err != nil {
		return err
	}
	r.res.Changes, r.res.V2 = ch, st
	r.logf("data set v2: %d files, %s (%d text files edited, %d large files patched, "+
		"%d files added, %d deleted)", st.Files, megabytes(st.Bytes), ch.TextEdited,
		ch.LargePatched, ch.Added, ch.Deleted)
	return nil
}

// backupAll runs one backup phase for every tool.
func (r *runner) backupAll(ctx context.Context, phase string, logical int64) error {
	for i, t := range r.cfg.Tools {
		_, err := r.measure(ctx, i, phase, logical, func() (Outcome, error) {
			return t.Backup(ctx, r.src)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// restore runs one restore of one tool, checks the result against the source and
// returns its measurement, which the caller records.
func (r *runner) restore(ctx context.Context, i int, t Tool) (PhaseResult, error) {
	dst := filepath.Join(r.cfg.WorkDir, "restore-"+t.Name())
	if err := os.Mkdir(dst, 0o755); err != nil {
		return PhaseResult{}, fmt.Errorf("create restore target: %w", err)
	}
	defer os.RemoveAll(dst)
	p, err := r.run1(ctx, i, PhaseRestore, r.res.V2.Bytes, func() (Outcome, error) {
		return t.Restore(ctx, dst)
	})
	if err != nil {
		return p, err
	}
	start := time.Now()
	if err := dataset.Equal(r.src, t.RestoredRoot(dst, r.src)); err != nil {
		r.res.Tools[i].RestoreVerified = false
		return p, fmt.Errorf("%s: restore is not the same as data set v2: %w", t.Name(), err)
	}
	r.res.Tools[i].RestoreVerified = true
	r.logf("[%s] restore verified byte for byte in %.1f s", t.Name(), time.Since(start).Seconds())
	return p, nil
}

// measure runs one operation of tool i as phase and records it.
func (r *runner) measure(ctx context.Context, i int, phase string, logical int64,
	op func() (Outcome, error)) (PhaseResult, error) {
	p, err := r.run1(ctx, i, phase, logical, op)
	if err == nil {
		r.res.Tools[i].Phases = append(r.res.Tools[i].Phases, p)
	}
	return p, err
}

// run1 runs one operation of tool i as phase and returns its measurement.
func (r *runner) run1(ctx context.Context, i int, phase string, logical int64,
	op func() (Outcome, error)) (PhaseResult, error) {
	t := r.cfg.Tools[i]
	before, err := DiskUsage(t.RepoDir())
	if err != nil {
		return PhaseResult{}, err
	}
	r.settle()
	if err := ctx.Err(); err != nil {
		return PhaseResult{}, err
	}

	start := time.Now()
	out, err := op()
	wall := time.Since(start).Seconds()
	if err != nil {
		return PhaseResult{}, fmt.Errorf("%s %s: %w", t.Name(), phase, err)
	}

	after, err := DiskUsage(t.RepoDir())
	if err != nil {
		return PhaseResult{}, err
	}
	p := PhaseResult{Phase: phase, LogicalBytes: logical, Seconds: wall,
		MBps: float64(logical) / 1e6 / wall, StoredGrowth: after - before, RepoBytes: after,
		ReportedStored: out.StoredBytes, ToolSeconds: out.Seconds, Processes: out.Processes,
		Extra: out.Extra, Warnings: out.Warnings}
	r.logf("[%s] %-9s %s in %6.2f s = %7.1f MB/s, repository +%s", t.Name(), phase,
		megabytes(logical), wall, p.MBps, megabytes(p.StoredGrowth))
	return p, nil
}

// cacheMode finds out whether the page cache can be dropped, and names the mode.
func (r *runner) cacheMode() string {
	if r.cfg.DropCaches && dropCaches() == nil {
		return CacheCold
	}
	return CacheWarm
}

// settle puts the page cache in the run's mode before a phase.
func (r *runner) settle() {
	if r.res.Cache == CacheCold {
		_ = dropCaches() // it worked once; a rare failure only warms this one phase
	}
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, format+"\n", args...)
	}
}

// Cache modes of a run.
const (
	CacheCold = "cold: dropped before every phase, for every tool"
	CacheWarm = "warm: could not be dropped; every phase of every tool reads from memory"
)

// dropCaches writes dirty pages out and empties the page cache, dentries and inodes.
func dropCaches() error {
	syncFS()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0)
}

// DiskUsage is the apparent size of everything below dir, directories included, as
// `du -sb` counts it (hard links once).
func DiskUsage(dir string) (int64, error) {
	var total int64
	seen := map[fileID]bool{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed while we walk: a temporary file of the tool
		}
		if err != nil {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if id, ok := idOf(info); ok {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("disk usage of %s: %w", dir, err)
	}
	return total, nil
}

// megabytes formats a byte count in MB (10^6 bytes), the unit of the rates.
func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
