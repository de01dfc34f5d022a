// Package usage measures what running processes use over a span of time, such as one
// phase of the benchmark: their peak resident memory and the CPU time they spent.
//
// The kernel keeps a high-water mark of each process's resident set (VmHWM in
// /proc/PID/status), but it counts from the start of the process, so on its own it
// cannot tell one phase from the previous. Writing "5" to /proc/PID/clear_refs resets
// the mark to the current resident set (Linux 4.0 and later, and only for a process we
// may trace, such as our own child). A Watcher does that at the start of a span and reads
// the mark at its end, which catches even the shortest peak. Where the reset is refused it
// falls back on sampling VmRSS every 100 ms and keeping the largest, which can miss a peak
// shorter than that. It does both, reports the larger, and says which it could use.
package usage

import (
	"sync"
	"time"
)

// SampleEvery is how often a Watcher reads VmRSS.
const SampleEvery = 100 * time.Millisecond

// Process is what one process used over a span.
type Process struct {
	// PeakRSS is the largest resident set in bytes.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// Exact is true when PeakRSS is the kernel's high-water mark over the span, false when
	// it comes from sampling alone.
	Exact bool `json:"peak_exact"`
	// CPUSeconds is the user and system time spent, in seconds.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// Watcher follows some processes from its start to Stop.
type Watcher struct {
	pids     map[string]int
	reset    map[string]bool    // whether the high-water mark of each was reset
	cpuStart map[string]float64 // CPU seconds of each at the start
	stop     chan struct{}
	done     chan struct{}

	mu      sync.Mutex // guards sampled
	sampled map[string]int64
}

// Watch starts following the processes, named by a label each.
func Watch(pids map[string]int) *Watcher {
	w := &Watcher{pids: pids, reset: map[string]bool{}, cpuStart: map[string]float64{},
		sampled: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	for label, pid := range pids {
		w.reset[label] = resetHighWater(pid) == nil
		w.cpuStart[label], _ = cpuSeconds(pid)
	}
	w.sample()
	go w.loop()
	return w
}

// Stop ends the span and returns what each process used, by label. Of a process that
// has gone, it reports what it sampled before.
func (w *Watcher) Stop() map[string]Process {
	close(w.stop)
	<-w.done
	w.sample()
	out := map[string]Process{}
	for label, pid := range w.pids {
		p := Process{PeakRSS: w.sampled[label]}
		if w.reset[label] {
			if hwm, err := statusField(pid, "VmHWM:"); err == nil {
				p.PeakRSS, p.Exact = max(p.PeakRSS, hwm), true
			}
		}
		if cpu, err := cpuSeconds(pid); err == nil {
			p.CPUSeconds = cpu - w.cpuStart[label]
		}
		out[label] = p
	}
	return out
}

func (w *Watcher) loop() {
	defer close(w.done)
	tick := time.NewTicker(SampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.sample()
		}
	}
}

// sample reads the current resident set of each process and keeps the largest.
func (w *Watcher) sample() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for label, pid := range w.pids {
		if rss, err := statusField(pid, "VmRSS:"); err == nil {
			w.sampled[label] = max(w.sampled[label], rss)
		}
	}
}
