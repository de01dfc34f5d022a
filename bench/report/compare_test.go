package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/bench/suite"
	"github.com/grim-reaper/grim/bench/usage"
)

// tool makes results with one phase per entry of mbps, in the order of suite.Phases.
func tool(name string, mbps []float64, growth, repo int64, rssBytes int64) suite.ToolResults {
	t := suite.ToolResults{Name: name, Version: name + " 1.0", RestoreVerified: true}
	for i, rate := range mbps {
		t.Phases = append(t.Phases, suite.PhaseResult{Phase: suite.Phases[i], MBps: rate,
			LogicalBytes: 100e6, Seconds: 100 / rate, StoredGrowth: growth, RepoBytes: repo,
			Processes: map[string]usage.Process{"main": {PeakRSS: rssBytes, Exact: true,
				CPUSeconds: 1}}})
	}
	return t
}

func TestTargets(t *testing.T) {
	grim := tool("grim", []float64{100, 300, 50, 120}, 10, 900, 200)
	restic := tool("restic", []float64{100, 100, 50, 100}, 20, 1000, 100)

	got := Targets(&grim, &restic)
	require.Len(t, got, 4)
	pass := map[string]bool{}
	for _, tg := range got {
		pass[tg.Name] = tg.Pass
	}
	assert.True(t, pass["initial backup at least as fast"], "equal speed passes")
	assert.True(t, pass["unchanged re-backup at least 2x faster"])
	assert.True(t, pass["restore at least as fast"])
	assert.True(t, pass["stored bytes no more than restic's (compressed)"])

	grim.Phases[1].MBps = 199
	grim.Phases[2].RepoBytes = 1001
	for _, tg := range Targets(&grim, &restic) {
		if tg.Name == "unchanged re-backup at least 2x faster" ||
			tg.Name == "stored bytes no more than restic's (compressed)" {
			assert.False(t, tg.Pass, tg.Name)
		}
	}
}

func TestRatios(t *testing.T) {
	grim := tool("grim", []float64{100, 300}, 0, 900, 200)
	restic := tool("restic", []float64{50, 100}, 20, 1000, 100)
	got := Ratios(&grim, &restic)
	require.Len(t, got, 2, "only phases both ran")
	assert.InDelta(t, 2.0, *got[0].MBps, 1e-9)
	assert.InDelta(t, 0.0, *got[0].Stored, 1e-9)
	assert.InDelta(t, 2.0, *got[1].RSS, 1e-9)

	restic.Phases[0].StoredGrowth = 0
	assert.Nil(t, Ratios(&grim, &restic)[0].Stored, "no ratio over zero")
}

func TestPrint(t *testing.T) {
	grim := tool("grim", []float64{100, 300, 50, 120}, 10, 900, 200)
	restic := tool("restic", []float64{100, 100, 50, 100}, 20, 1000, 100)
	doc := NewDocument(&suite.Results{Tools: []suite.ToolResults{grim, restic}}, CurrentHost())
	var out bytes.Buffer
	Print(&out, doc)
	for _, want := range []string{"grim (grim 1.0)", "restic (restic 1.0)", "grim / restic",
		"PASS  unchanged re-backup at least 2x faster", "RSS main MB", "CPU main s",
		"verified equal"} {
		assert.Contains(t, out.String(), want)
	}
}
