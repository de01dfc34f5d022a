package main

import (
	"encoding/json"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decoded is v through JSON, as a body read from a file or a reply looks.
func decoded(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

func TestPolicyFlagsApply(t *testing.T) {
	fs := func(paths ...string) map[string]any {
		return map[string]any{"type": "filesystem", "paths": paths}
	}
	base := map[string]any{"name": "web", "schedule": "@daily",
		"sources": []any{map[string]any{"type": "filesystem", "paths": []any{"/etc"},
			"exclude": []any{"*.tmp"}}, fs("/srv")},
		"retention": map[string]any{"keep_last": 3, "keep_daily": 7},
		"options":   map[string]any{"compression": "gzip"}}
	tests := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"nothing given", nil, base},
		{"rules set and dropped", []string{"--keep-weekly", "4", "--keep-last", "0"},
			map[string]any{"name": "web", "schedule": "@daily", "sources": base["sources"],
				"retention": map[string]any{"keep_last": 0, "keep_daily": 7, "keep_weekly": 4},
				"options":   base["options"]}},
		{"paths replace the sources and keep the excludes", []string{"--path", "/a,b"},
			map[string]any{"name": "web", "schedule": "@daily", "retention": base["retention"],
				"options": base["options"], "sources": []any{map[string]any{
					"type": "filesystem", "paths": []string{"/a,b"}, "exclude": []any{"*.tmp"}}}}},
		{"excludes of every filesystem source", []string{"--exclude", "{a,b}", "--name", "x",
			"--compression", "none", "--timezone", "UTC", "--agent", "h"},
			map[string]any{"name": "x", "schedule": "@daily", "timezone": "UTC", "agent": "h",
				"retention": base["retention"], "options": map[string]any{"compression": "none"},
				"sources": []any{
					map[string]any{"type": "filesystem", "paths": []any{"/etc"},
						"exclude": []string{"{a,b}"}},
					map[string]any{"type": "filesystem", "paths": []any{"/srv"},
						"exclude": []string{"{a,b}"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p policyFlags
			f := pflag.NewFlagSet("policy", pflag.ContinueOnError)
			p.register(f)
			require.NoError(t, f.Parse(tt.args))
			assert.Equal(t, len(tt.args) > 0, p.changed(f))
			body := decoded(t, base)
			p.apply(f, body)
			assert.Equal(t, decoded(t, tt.want), decoded(t, body))
		})
	}
}

func TestRequestOf(t *testing.T) {
	view := decoded(t, map[string]any{"id": "pol_1", "name": "web", "agent_id": "agent_1",
		"schedule": "30 2 * * *", "timezone": "Europe/Berlin", "next_run_at": "2026-12-05T01:30:00Z",
		"sources": []any{map[string]any{"type": "filesystem", "paths": []any{"/etc"}}},
		"options": map[string]any{"compression": "zstd", "encryption": true,
			"retention_days": 0, "notify_on_completion": false},
		"retention": map[string]any{"keep_daily": 7}})
	body := requestOf(view)
	assert.Equal(t, decoded(t, map[string]any{"name": "web", "agent": "agent_1",
		"schedule": "30 2 * * *", "timezone": "Europe/Berlin", "sources": view["sources"],
		"options":   map[string]any{"compression": "zstd", "notify_on_completion": false},
		"retention": map[string]any{"keep_daily": 7}}), body,
		"what PUT takes, without what a policy refuses")

	view["sources"] = append(view["sources"].([]any), map[string]any{"type": "database",
		"name": "app", "engine": "postgres", "connection": map[string]any{"database": "app"}})
	assert.Equal(t, view["sources"], requestOf(view)["sources"],
		"database sources go back as they are; the controller keeps their passwords")
}

func TestKeepRules(t *testing.T) {
	assert.Equal(t, "all", keepRules(nil))
	assert.Equal(t, "days=30 last=2 yearly=1",
		keepRules(map[string]int{"keep_yearly": 1, "days": 30, "keep_last": 2, "keep_daily": 0}))
}
