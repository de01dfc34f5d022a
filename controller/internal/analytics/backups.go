package analytics

import (
	"context"
	"slices"
	"strings"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// BackupFigures are the backups of one bucket, one agent or the whole range.
// SuccessRate is completed over completed and failed (canceled backups count for
// neither), null without either; durations are of completed backups.
type BackupFigures struct {
	Counts
	SuccessRate        *float64 `json:"success_rate"`
	AvgDurationSeconds *float64 `json:"avg_duration_seconds"`
	MaxDurationSeconds *float64 `json:"max_duration_seconds"`
	// SizeBytes is the logical size of the completed backups, StoredBytes what all of
	// them added to storage.
	SizeBytes   int64 `json:"size_bytes"`
	StoredBytes int64 `json:"stored_bytes"`

	durationMS, maxMS int64 // of completed backups
}

func (b *BackupFigures) add(g jobGroup) {
	b.Counts.add(g.status, g.n)
	b.StoredBytes += g.stored
	if g.status != store.JobCompleted {
		return
	}
	b.SizeBytes += g.bytes
	b.durationMS += g.duration.Milliseconds()
	b.maxMS = max(b.maxMS, g.maxMS)
}

// finish computes the rates and averages from the sums.
func (b *BackupFigures) finish() {
	if n := b.Completed + b.Failed; n > 0 {
		rate := float64(b.Completed) / float64(n)
		b.SuccessRate = &rate
	}
	if b.Completed > 0 {
		avg := float64(b.durationMS) / float64(b.Completed) / 1000
		longest := float64(b.maxMS) / 1000
		b.AvgDurationSeconds, b.MaxDurationSeconds = &avg, &longest
	}
}

// BackupDay is one bucket of the backup trend.
type BackupDay struct {
	Start string `json:"start"`
	BackupFigures
}

// AgentBackups is one agent's share of the range.
type AgentBackups struct {
	AgentID   string `json:"agent_id"`
	AgentName string `json:"agent_name"`
	BackupFigures
}

// BackupTrend is the reply of GET /api/analytics/backups.
type BackupTrend struct {
	Range    string         `json:"range"`
	From     string         `json:"from"`
	To       string         `json:"to"`
	Interval string         `json:"interval"`
	Totals   BackupFigures  `json:"totals"`
	Series   []BackupDay    `json:"series"`
	Agents   []AgentBackups `json:"agents"`
}

// Backups is the backup trend of accountID (every account's for "") over rng: counts,
// success rate, durations and sizes per bucket and per agent.
func (s *Service) Backups(ctx context.Context, accountID, rng string) (*BackupTrend, error) {
	w, err := windowOf(rng, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	t := &BackupTrend{Range: w.name, From: stamp(w.from), To: stamp(w.to),
		Interval: w.interval(), Series: make([]BackupDay, w.buckets), Agents: []AgentBackups{}}
	err = s.eachJob(ctx, accountID, w, func(i int, g jobGroup) {
		if g.kind == store.KindBackup {
			t.Series[i].add(g)
			t.Totals.add(g)
		}
	})
	if err != nil {
		return nil, err
	}
	agents := map[string]*AgentBackups{}
	err = s.eachAgentJob(ctx, accountID, w, func(g jobGroup) {
		if g.kind != store.KindBackup {
			return
		}
		a := agents[g.agentID]
		if a == nil {
			a = &AgentBackups{AgentID: g.agentID}
			agents[g.agentID] = a
		}
		a.add(g)
	})
	if err != nil {
		return nil, err
	}
	for i := range t.Series {
		t.Series[i].Start = stamp(w.start(i))
		t.Series[i].finish()
	}
	t.Totals.finish()
	names, err := s.agentNames(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		a.AgentName = names[a.AgentID]
		a.finish()
		t.Agents = append(t.Agents, *a)
	}
	slices.SortFunc(t.Agents, func(a, b AgentBackups) int {
		return strings.Compare(a.AgentID, b.AgentID)
	})
	return t, nil
}

// agentNames maps the ids of the account's agents to their names.
func (s *Service) agentNames(ctx context.Context, accountID string) (map[string]string, error) {
	names := map[string]string{}
	for offset := 0; ; offset += 100 {
		list, _, err := s.st.Agents().List(ctx, accountID, 100, offset)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			names[a.ID] = a.Name
		}
		if len(list) < 100 {
			return names, nil
		}
	}
}
