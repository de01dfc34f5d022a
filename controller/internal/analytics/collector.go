package analytics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// scrapeTimeout bounds the queries of one scrape.
const scrapeTimeout = 2 * time.Second

// Collector exposes the fleet's figures, read from the database at each scrape, so
// every controller on one database reports the same values: jobs by kind and status,
// agents online and offline, and the bytes completed backups protected, uploaded and
// did not upload thanks to deduplication.
type Collector struct {
	st           *store.Store
	offlineAfter time.Duration
	now          func() time.Time

	jobs, agents, scrapeErrors        *prometheus.Desc
	protected, uploaded, deduplicated *prometheus.Desc
}

// NewCollector returns the collector; an agent silent for offlineAfter counts offline.
func NewCollector(st *store.Store, offlineAfter time.Duration, now func() time.Time) *Collector {
	if now == nil {
		now = time.Now
	}
	return &Collector{st: st, offlineAfter: offlineAfter, now: now,
		jobs: prometheus.NewDesc("grim_jobs", "Backups and restores by kind and status; "+
			"ended ones since the daily figures began.", []string{"kind", "status"}, nil),
		agents: prometheus.NewDesc("grim_agents", "Enrolled agents by status.",
			[]string{"status"}, nil),
		protected: prometheus.NewDesc("grim_backup_protected_bytes_total",
			"Logical bytes of completed backups.", nil, nil),
		uploaded: prometheus.NewDesc("grim_backup_uploaded_bytes_total",
			"Bytes completed backups added to storage, compressed and sealed.", nil, nil),
		deduplicated: prometheus.NewDesc("grim_backup_deduplicated_bytes_total",
			"Bytes completed backups did not upload because storage held them.", nil, nil),
		scrapeErrors: prometheus.NewDesc("grim_analytics_scrape_errors",
			"Queries of this scrape that failed.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.jobs, c.agents, c.protected, c.uploaded,
		c.deduplicated, c.scrapeErrors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A query that fails leaves its metrics out
// and counts in grim_analytics_scrape_errors.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	failed := 0
	if counts, err := c.st.Stats().JobCounts(ctx); err == nil {
		for kind, byStatus := range counts {
			for _, status := range []string{store.JobQueued, store.JobRunning,
				store.JobCompleted, store.JobFailed, store.JobCanceled} {
				ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue,
					float64(byStatus[status]), kind, status)
			}
		}
	} else {
		failed++
	}
	online, total, err := c.st.Agents().Counts(ctx, "", c.now().Add(-c.offlineAfter))
	if err == nil {
		ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(online),
			"online")
		ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue,
			float64(total-online), "offline")
	} else {
		failed++
	}
	if logical, stored, raw, err := c.st.Stats().BackupBytes(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.protected, prometheus.CounterValue, float64(logical))
		ch <- prometheus.MustNewConstMetric(c.uploaded, prometheus.CounterValue, float64(stored))
		ch <- prometheus.MustNewConstMetric(c.deduplicated, prometheus.CounterValue,
			float64(logical-raw))
	} else {
		failed++
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeErrors, prometheus.GaugeValue, float64(failed))
}
