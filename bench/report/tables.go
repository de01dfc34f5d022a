package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/grim-reaper/grim/bench/suite"
)

// Print writes the run as text: the data set, a table per tool, and when there are two
// tools, the ratios of the first over the second and the targets.
func Print(w io.Writer, d *Document) {
	r := d.Results
	fmt.Fprintf(w, "\nData set (seed %#x): v1 %d files, %s; v2 %d files, %s.\n",
		r.Spec.Seed, r.V1.Files, mb(r.V1.Bytes), r.V2.Files, mb(r.V2.Bytes))
	fmt.Fprint(w, legend)
	fmt.Fprintf(w, "Page cache: %s.\nHost: %d CPUs, %s RAM, Linux %s, load average before "+
		"the run %s.\n", r.Cache, d.Host.CPUs, mb(d.Host.MemTotal), d.Host.Kernel,
		d.Host.LoadAverage)
	for i := range r.Tools {
		printTool(w, &r.Tools[i])
	}
	if len(d.Ratios) > 0 {
		printRatios(w, &r.Tools[0], &r.Tools[1], d.Ratios)
	}
	if len(d.Targets) > 0 {
		printTargets(w, d.Targets)
	}
}

// legend explains the columns of the tables.
const legend = `MB = 10^6 bytes. MB/s = logical MB of the data set / wall seconds of the command.
"tool s" is the time the tool reports itself: for grim the job's start to completion on
the controller (wall time adds the CLI's start and its requests), for restic the
total_duration of its backup summary. Each tool restores twice, the tools in turn and in
reverse order the second time; the restore row is its faster round.
"stored +MB" is the growth of the repository directory (du -sb), "reported +MB" what the
tool says it added (restic: before compression). RSS is the peak resident set during the
phase; "~" marks a sampled peak.
`

// printTool writes one tool's phases.
func printTool(w io.Writer, t *suite.ToolResults) {
	fmt.Fprintf(w, "\n%s (%s)\n", t.Name, t.Version)
	procs := processes(t)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "phase\tdata MB\twall s\ttool s\tMB/s\tstored +MB\trepo MB\treported +MB\t"
	for _, p := range procs {
		head += "RSS " + p + " MB\t"
	}
	for _, p := range procs {
		head += "CPU " + p + " s\t"
	}
	fmt.Fprintln(tw, head)
	for _, p := range t.Phases {
		row := fmt.Sprintf("%s\t%.1f\t%.2f\t%s\t%.1f\t%.2f\t%.1f\t%s\t", p.Phase,
			float64(p.LogicalBytes)/1e6, p.Seconds, optSeconds(p.ToolSeconds), p.MBps,
			float64(p.StoredGrowth)/1e6, float64(p.RepoBytes)/1e6, optMB(p.ReportedStored))
		for _, name := range procs {
			row += peakCell(p, name) + "\t"
		}
		for _, name := range procs {
			row += cpuCell(p, name) + "\t"
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	printNotes(w, t)
}

// printNotes writes what a tool warned of and whether its restore was verified.
func printNotes(w io.Writer, t *suite.ToolResults) {
	for _, p := range t.Phases {
		for _, warn := range p.Warnings {
			fmt.Fprintf(w, "  warning in %s: %s\n", p.Phase, warn)
		}
	}
	if p := t.Phase(suite.PhaseRestore); p != nil {
		verdict := "NOT verified"
		if t.RestoreVerified {
			verdict = "verified equal to v2, byte for byte"
		}
		fmt.Fprintf(w, "  restore %s\n", verdict)
	}
	if p := t.Phase(suite.PhaseChanged); p != nil && p.Extra["state_bytes"] > 0 {
		fmt.Fprintf(w, "  state outside the repository (database, keys) after the last "+
			"backup: %s\n", mb(p.Extra["state_bytes"]))
	}
}

// printRatios writes the first tool over the second, phase by phase.
func printRatios(w io.Writer, a, b *suite.ToolResults, ratios []Ratio) {
	fmt.Fprintf(w, "\n%s / %s\n", a.Name, b.Name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tMB/s (higher is better)\tstored (lower is better)\t"+
		"RSS (lower is better)\tCPU s (lower is better)\t")
	for _, r := range ratios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Phase, optRatio(r.MBps),
			optRatio(r.Stored), optRatio(r.RSS), optRatio(r.CPU))
	}
	tw.Flush()
	fmt.Fprintf(w, "  RSS and CPU sum all processes of a tool (%s: %s).\n", a.Name,
		strings.Join(processes(a), " + "))
}

// printTargets writes each target with PASS or MISS.
func printTargets(w io.Writer, targets []Target) {
	fmt.Fprintln(w, "\nTargets")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range targets {
		verdict := "MISS"
		if t.Pass {
			verdict = "PASS"
		}
		fmt.Fprintf(tw, "  %s\t%s\t(%s: %.3f)\n", verdict, t.Name, t.Want, t.Got)
	}
	tw.Flush()
}

// processes lists the names of a tool's processes, sorted.
func processes(t *suite.ToolResults) []string {
	seen := map[string]bool{}
	for _, p := range t.Phases {
		for name := range p.Processes {
			seen[name] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// peakCell shows a peak in MB, marked with ~ when it was only sampled.
func peakCell(p suite.PhaseResult, name string) string {
	u, ok := p.Processes[name]
	if !ok {
		return "-"
	}
	cell := fmt.Sprintf("%.1f", float64(u.PeakRSS)/1e6)
	if !u.Exact {
		cell = "~" + cell
	}
	return cell
}

// cpuCell shows the CPU time of a process.
func cpuCell(p suite.PhaseResult, name string) string {
	u, ok := p.Processes[name]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f", u.CPUSeconds)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func optMB(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(*n)/1e6)
}

func optSeconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *s)
}

func optRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return strings.TrimSpace(fmt.Sprintf("%.2f", *r))
}
