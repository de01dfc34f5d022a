package suite

import (
	"time"

	"github.com/grim-reaper/grim/bench/dataset"
	"github.com/grim-reaper/grim/bench/usage"
)

// Results is everything one run measured.
type Results struct {
	Started         time.Time       `json:"started"`
	Finished        time.Time       `json:"finished"`
	Spec            dataset.Spec    `json:"spec"`
	GenerateSeconds float64         `json:"generate_seconds"`
	V1              dataset.Stats   `json:"v1"`
	V2              dataset.Stats   `json:"v2"`
	Changes         dataset.Changes `json:"changes"`
	Cache           string          `json:"page_cache"`
	Tools           []ToolResults   `json:"tools"`
}

// ToolResults is one tool's phases.
type ToolResults struct {
	Name            string        `json:"name"`
	Version         string        `json:"version"`
	Phases          []PhaseResult `json:"phases"`
	RestoreVerified bool          `json:"restore_verified"`
}

// Phase returns the result of the named phase, or nil when it did not run.
func (t *ToolResults) Phase(name string) *PhaseResult {
	for i := range t.Phases {
		if t.Phases[i].Phase == name {
			return &t.Phases[i]
		}
	}
	return nil
}

// PhaseResult is one phase of one tool.
type PhaseResult struct {
	Phase        string  `json:"phase"`
	LogicalBytes int64   `json:"logical_bytes"` // of the data set the phase works on
	Seconds      float64 `json:"wall_seconds"`
	MBps         float64 `json:"mb_per_s"` // logical MB (10^6 bytes) per wall second
	// StoredGrowth is how much the repository directory grew during the phase, and
	// RepoBytes its size after it.
	StoredGrowth   int64                    `json:"stored_growth_bytes"`
	RepoBytes      int64                    `json:"repo_bytes"`
	ReportedStored *int64                   `json:"reported_stored_bytes,omitempty"`
	ToolSeconds    *float64                 `json:"tool_seconds,omitempty"`
	Processes      map[string]usage.Process `json:"processes"`
	Extra          map[string]int64         `json:"extra,omitempty"`
	Warnings       []string                 `json:"warnings,omitempty"`
	// RoundSeconds are the wall times of every round of a phase run more than once (the
	// restore); the other figures are those of the fastest round.
	RoundSeconds []float64 `json:"round_wall_seconds,omitempty"`
}

// TotalRSS is the sum of the peaks of all the tool's processes; they need not peak at
// the same moment, so it bounds the memory the tool needed from above.
func (p *PhaseResult) TotalRSS() int64 {
	var n int64
	for _, u := range p.Processes {
		n += u.PeakRSS
	}
	return n
}

// TotalCPU is the CPU time of all the tool's processes, in seconds.
func (p *PhaseResult) TotalCPU() float64 {
	var s float64
	for _, u := range p.Processes {
		s += u.CPUSeconds
	}
	return s
}
