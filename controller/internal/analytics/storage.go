package analytics

import (
	"context"
	"encoding/json"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// projectionDays is how many days of samples the fill projection fits a line through.
const projectionDays = 30

// StorageReport is the reply of GET /api/analytics/storage.
type StorageReport struct {
	// LogicalBytes is the size of the completed backups kept, as their sources were;
	// RawBytes the plaintext of what storage holds for them after deduplication;
	// StoredBytes what it takes in storage after compression and encryption.
	LogicalBytes       int64    `json:"logical_bytes"`
	RawBytes           int64    `json:"raw_bytes"`
	StoredBytes        int64    `json:"stored_bytes"`
	SavingsBytes       int64    `json:"savings_bytes"`
	SavingsRatio       *float64 `json:"savings_ratio"`
	DedupSavings       int64    `json:"dedup_savings_bytes"`
	CompressionSavings int64    `json:"compression_savings_bytes"`
	Backups            int64    `json:"backups"`
	Packs              int64    `json:"packs"`
	// Volume is the storage volume the controller writes to, shared by every account.
	Volume     *Volume         `json:"volume"`
	Agents     []AgentStorage  `json:"agents"`
	Growth     []GrowthDay     `json:"growth"`
	Projection *FillProjection `json:"projection"`
}

// Volume is the storage volume's use.
type Volume struct {
	UsedBytes  int64   `json:"used_bytes"`
	TotalBytes int64   `json:"total_bytes"`
	UsedRatio  float64 `json:"used_ratio"`
}

// AgentStorage is one agent's kept backups and the sources of its latest one.
type AgentStorage struct {
	AgentID      string          `json:"agent_id"`
	AgentName    string          `json:"agent_name"`
	Backups      int64           `json:"backups"`
	LogicalBytes int64           `json:"logical_bytes"`
	StoredBytes  int64           `json:"stored_bytes"`
	Latest       LatestBackup    `json:"latest_backup"`
	Sources      []SourceStorage `json:"sources"`
}

// LatestBackup names an agent's latest completed backup.
type LatestBackup struct {
	ID          string `json:"id"`
	SizeBytes   int64  `json:"size_bytes"`
	StoredBytes int64  `json:"stored_bytes"`
	CompletedAt string `json:"completed_at"`
}

// SourceStorage is one source of an agent's latest backup: its size then, and what that
// backup stored of it.
type SourceStorage struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	SizeBytes   int64  `json:"size_bytes"`
	StoredBytes int64  `json:"stored_bytes"`
}

// GrowthDay is one day's sample of storage and what backups added that day.
type GrowthDay struct {
	Date         string `json:"date"`
	LogicalBytes int64  `json:"logical_bytes"`
	StoredBytes  int64  `json:"stored_bytes"`
	AddedBytes   int64  `json:"added_bytes"`
}

// FillProjection says when the storage volume fills at the pace of the last days: a
// least-squares line through the daily samples of its used bytes.
type FillProjection struct {
	BasisDays        int      `json:"basis_days"`
	DailyGrowthBytes float64  `json:"daily_growth_bytes"`
	DaysUntilFull    *float64 `json:"days_until_full"`
	FullAt           *string  `json:"full_at"`
}

// Storage reports accountID's storage (every account's for ""), per agent and source,
// with its growth over rng and the projection of when the volume fills.
func (s *Service) Storage(ctx context.Context, accountID, rng string) (*StorageReport, error) {
	w, err := windowOf(rng, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	if !w.daily() {
		w, _ = windowOf("7d", s.cfg.Now())
	}
	t, err := s.st.Stats().PackTotals(ctx, accountID)
	if err != nil {
		return nil, err
	}
	r := &StorageReport{RawBytes: t.Raw, StoredBytes: t.Stored, Packs: t.Packs}
	if r.Agents, err = s.agentStorage(ctx, accountID); err != nil {
		return nil, err
	}
	// The kept backups are summed once, per agent.
	for _, a := range r.Agents {
		r.LogicalBytes += a.LogicalBytes
		r.Backups += a.Backups
	}
	r.SavingsBytes, r.DedupSavings = r.LogicalBytes-t.Stored, r.LogicalBytes-t.Raw
	r.CompressionSavings = t.Raw - t.Stored
	if r.LogicalBytes > 0 {
		ratio := float64(r.SavingsBytes) / float64(r.LogicalBytes)
		r.SavingsRatio = &ratio
	}
	if r.Growth, err = s.growth(ctx, accountID, w); err != nil {
		return nil, err
	}
	if r.Volume, r.Projection, err = s.volume(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) agentStorage(ctx context.Context, accountID string) ([]AgentStorage, error) {
	totals, err := s.st.Stats().AgentTotals(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]AgentStorage, 0, len(totals))
	for _, a := range totals {
		v := AgentStorage{AgentID: a.AgentID, AgentName: a.AgentName, Backups: a.Backups,
			LogicalBytes: a.Logical, StoredBytes: a.StoredBytes, Sources: []SourceStorage{}}
		if b := a.Latest; b != nil {
			v.Latest = LatestBackup{ID: b.ID, SizeBytes: b.BytesTotal, StoredBytes: b.StoredBytes}
			if b.CompletedAt != nil {
				v.Latest.CompletedAt = stamp(*b.CompletedAt)
			}
			var sources []struct {
				Type        string `json:"type"`
				Name        string `json:"name"`
				Bytes       int64  `json:"bytes"`
				StoredBytes int64  `json:"stored_bytes"`
			}
			_ = json.Unmarshal([]byte(b.SourceResults), &sources)
			for _, src := range sources {
				v.Sources = append(v.Sources, SourceStorage{Type: src.Type, Name: src.Name,
					SizeBytes: src.Bytes, StoredBytes: src.StoredBytes})
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// growth is one entry per day of the window that has a sample.
func (s *Service) growth(ctx context.Context, accountID string, w window) ([]GrowthDay, error) {
	from, to := w.from.Format(store.DayFormat), w.to.Format(store.DayFormat)
	samples, err := s.st.Samples().Range(ctx, accountID, from, to)
	if err != nil {
		return nil, err
	}
	days, err := s.st.Stats().Days(ctx, accountID, from, to)
	if err != nil {
		return nil, err
	}
	added := map[string]int64{}
	for _, d := range days {
		if d.Kind == store.KindBackup {
			added[d.Day] += d.StoredBytes
		}
	}
	out := make([]GrowthDay, 0, len(samples))
	for _, sm := range samples {
		out = append(out, GrowthDay{Date: sm.Day, LogicalBytes: sm.LogicalBytes,
			StoredBytes: sm.StoredBytes, AddedBytes: added[sm.Day]})
	}
	return out, nil
}

// volume reads the volume's use now and projects when it fills from the samples of the
// whole storage.
func (s *Service) volume(ctx context.Context) (*Volume, *FillProjection, error) {
	if s.cfg.Storage == nil {
		return nil, nil, nil
	}
	used, total, err := s.cfg.Storage(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "read storage usage", "error", err)
		return nil, nil, nil
	}
	v := &Volume{UsedBytes: int64(used), TotalBytes: int64(total)}
	if total > 0 {
		v.UsedRatio = float64(used) / float64(total)
	}
	now := s.cfg.Now().UTC()
	samples, err := s.st.Samples().Range(ctx, "",
		now.AddDate(0, 0, -projectionDays).Format(store.DayFormat), now.Format(store.DayFormat))
	if err != nil {
		return nil, nil, err
	}
	return v, project(samples, v, now), nil
}

// project fits a line through the samples' used bytes by day and says when it reaches
// the volume's size. Fewer than two samples project nothing; a line that does not rise
// never fills.
func project(samples []store.Sample, v *Volume, now time.Time) *FillProjection {
	var xs, ys []float64
	for _, sm := range samples {
		day, err := time.Parse(store.DayFormat, sm.Day)
		if err != nil || sm.TotalBytes == 0 {
			continue
		}
		xs = append(xs, day.Sub(now).Hours()/24)
		ys = append(ys, float64(sm.UsedBytes))
	}
	if len(xs) < 2 {
		return nil
	}
	slope := slopeOf(xs, ys)
	p := &FillProjection{BasisDays: len(xs), DailyGrowthBytes: slope}
	if slope <= 0 || v.TotalBytes <= v.UsedBytes {
		return p
	}
	days := float64(v.TotalBytes-v.UsedBytes) / slope
	at := stamp(now.Add(time.Duration(days * 24 * float64(time.Hour))))
	p.DaysUntilFull, p.FullAt = &days, &at
	return p
}

// slopeOf is the least-squares slope of ys over xs.
func slopeOf(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}
