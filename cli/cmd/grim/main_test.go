package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/grim-reaper/grim/cli/internal/client"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"refused request", &client.Error{Status: 400, Code: "VALIDATION_ERROR"}, 2},
		{"not found", fmt.Errorf("wrapped: %w", &client.Error{Status: 404}), 2},
		{"controller error", &client.Error{Status: 500, Code: "INTERNAL_ERROR"}, 3},
		{"failed job", &jobError{kind: "backup", id: "b", status: "failed"}, 4},
		{"canceled job", &jobError{kind: "backup", id: "b", status: "canceled"}, 5},
		{"failed check", runFailed("check", "c", "failed", nil), 4},
		{"damage found", fmt.Errorf("wait: %w", &damageError{id: "c", packs: 2}), 4},
		{"anything else", errors.New("connection refused"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exitCode(tt.err))
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"}
	for in, want := range tests {
		assert.Equal(t, want, humanBytes(in), "%d", in)
	}
}

func TestReportPrintsChangesOnly(t *testing.T) {
	var out bytes.Buffer
	st := jobState{Status: "running", Progress: 50, BytesDone: 1024, BytesTotal: 2048}
	last := report(&out, false, "backup", "b1", st, "")
	again := report(&out, false, "backup", "b1", st, last)
	assert.Equal(t, last, again)
	assert.Equal(t, 1, bytes.Count(out.Bytes(), []byte("\n")), "an unchanged state prints once")
	assert.Contains(t, out.String(), "backup b1 running")
	assert.Contains(t, out.String(), "50.0%")
}

func TestAPIKeyFromEnvironment(t *testing.T) {
	env := map[string]string{"GRIM_URL": "http://ctl:8080", "GRIM_API_KEY": "k"}
	g := &globalOptions{getenv: func(k string) string { return env[k] }}
	_, err := g.client()
	assert.NoError(t, err)

	g = &globalOptions{getenv: func(string) string { return "" }}
	_, err = g.client()
	assert.ErrorContains(t, err, "GRIM_API_KEY")
}
