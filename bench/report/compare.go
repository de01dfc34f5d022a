// Package report turns a benchmark run into tables for people, a comparison of Grim
// Reaper with restic against the targets it must meet, and a JSON document for tools.
package report

import (
	"github.com/grim-reaper/grim/bench/suite"
)

// Ratio compares one phase of two tools: the first over the second.
type Ratio struct {
	Phase string `json:"phase"`
	// MBps is the ratio of the rates; above 1 the first tool is faster.
	MBps *float64 `json:"mb_per_s"`
	// Stored is the ratio of the repository growths; below 1 the first stored less.
	Stored *float64 `json:"stored"`
	// RSS is the ratio of the summed peaks of all processes; below 1 the first used less.
	RSS *float64 `json:"rss"`
	// CPU is the ratio of the CPU time of all processes; below 1 the first used less.
	CPU *float64 `json:"cpu"`
}

// Target is one goal of the first tool relative to the second.
type Target struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"` // the ratio measured
	Pass bool    `json:"pass"`
}

// Ratios compares every phase both tools ran.
func Ratios(a, b *suite.ToolResults) []Ratio {
	var out []Ratio
	for _, name := range suite.Phases {
		pa, pb := a.Phase(name), b.Phase(name)
		if pa == nil || pb == nil {
			continue
		}
		out = append(out, Ratio{
			Phase:  name,
			MBps:   ratio(pa.MBps, pb.MBps),
			Stored: ratio(float64(pa.StoredGrowth), float64(pb.StoredGrowth)),
			RSS:    ratio(float64(pa.TotalRSS()), float64(pb.TotalRSS())),
			CPU:    ratio(pa.TotalCPU(), pb.TotalCPU()),
		})
	}
	return out
}

// Targets checks the goals Grim Reaper has against restic: an initial backup at least as
// fast, an unchanged re-backup at least twice as fast, a restore at least as fast, and a
// repository no larger after the last backup, with restic's compression on.
func Targets(grim, restic *suite.ToolResults) []Target {
	var out []Target
	speed := func(name, phase string, factor float64, want string) {
		pg, pr := grim.Phase(phase), restic.Phase(phase)
		if pg == nil || pr == nil || pr.MBps == 0 {
			return
		}
		got := pg.MBps / pr.MBps
		out = append(out, Target{Name: name, Want: want, Got: got, Pass: got >= factor})
	}
	speed("initial backup at least as fast", suite.PhaseInitial, 1, "MB/s ratio >= 1")
	speed("unchanged re-backup at least 2x faster", suite.PhaseUnchanged, 2, "MB/s ratio >= 2")
	speed("restore at least as fast", suite.PhaseRestore, 1, "MB/s ratio >= 1")

	pg, pr := grim.Phase(suite.PhaseChanged), restic.Phase(suite.PhaseChanged)
	if pg != nil && pr != nil && pr.RepoBytes > 0 {
		got := float64(pg.RepoBytes) / float64(pr.RepoBytes)
		out = append(out, Target{Name: "stored bytes no more than restic's (compressed)",
			Want: "repository size ratio after the last backup <= 1", Got: got, Pass: got <= 1})
	}
	return out
}

// ratio is a/b, or nil when b is zero.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	r := a / b
	return &r
}
