package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/grim-reaper/grim/bench/suite"
)

// Document is a run with its comparison and where it ran, as written to JSON.
type Document struct {
	*suite.Results
	Host    Host     `json:"host"`
	Ratios  []Ratio  `json:"ratios,omitempty"` // first tool over the second
	Targets []Target `json:"targets,omitempty"`
	// Error is why the run stopped early, when it did; what it measured is still here.
	Error string `json:"error,omitempty"`
}

// Host is the machine a run measured.
type Host struct {
	CPUs      int    `json:"cpus"`
	MemTotal  int64  `json:"mem_total_bytes"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"` // of the driver
	// LoadAverage is from /proc/loadavg before the run: other work on the machine makes
	// the numbers noisier.
	LoadAverage string `json:"load_average"`
}

// NewDocument compares the first two tools of r, when there are two, against the targets
// of Grim Reaper, which must be the first. h is the machine as CurrentHost saw it.
func NewDocument(r *suite.Results, h Host) *Document {
	d := &Document{Results: r, Host: h}
	if len(r.Tools) >= 2 {
		d.Ratios = Ratios(&r.Tools[0], &r.Tools[1])
		d.Targets = Targets(&r.Tools[0], &r.Tools[1])
	}
	return d
}

// WriteJSON writes d to path, creating its directory.
func (d *Document) WriteJSON(path string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep ">=" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// CurrentHost reads what the kernel says of the machine now; what it cannot read stays
// empty.
func CurrentHost() Host {
	h := Host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(raw))
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) >= 3 {
			h.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		h.MemTotal = memTotal(raw)
	}
	return h
}

// memTotal finds the "MemTotal:  N kB" line of /proc/meminfo, in bytes.
func memTotal(meminfo []byte) int64 {
	for line := range bytes.Lines(meminfo) {
		rest, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 2 {
			kb, _ := strconv.ParseInt(string(fields[0]), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
