package webhook

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// scrapeTimeout bounds the queries a scrape of the metrics runs.
const scrapeTimeout = 2 * time.Second

// metrics count this controller's delivery attempts.
type metrics struct {
	attempts *prometheus.CounterVec
	duration prometheus.Histogram
}

// newMetrics makes the delivery metrics and registers them, with gauges of the outbox
// read from the database at each scrape, on reg unless it is nil.
func newMetrics(reg prometheus.Registerer, st *store.Store) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grim_webhook_deliveries_total",
			Help: "Webhook delivery attempts made by this controller, by event and outcome " +
				"(succeeded, retrying, failed).",
		}, []string{"event", "outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "grim_webhook_delivery_duration_seconds",
			Help:    "Time webhook delivery attempts took, reply or not.",
			Buckets: prometheus.DefBuckets,
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.attempts, m.duration,
		queueGauge("grim_webhook_deliveries_pending",
			"Webhook deliveries queued or waiting to be retried, on every controller.",
			st.Deliveries().Pending),
		queueGauge("grim_webhook_events_pending",
			"Events not yet fanned out to webhooks, on every controller.",
			st.Events().Pending))
	return m
}

// queueGauge reads a count from the database at each scrape; -1 when it cannot.
func queueGauge(name, help string,
	count func(context.Context) (int64, error)) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
}

// observe counts one recorded attempt.
func (m *metrics) observe(event string, o store.Outcome, took time.Duration) {
	outcome := "retrying"
	switch {
	case o.Succeeded:
		outcome = "succeeded"
	case o.Done:
		outcome = "failed"
	}
	m.attempts.WithLabelValues(event, outcome).Inc()
	m.duration.Observe(took.Seconds())
}
