package main

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"768MiB", 768 << 20},
		{"768m", 768 << 20},
		{"1GiB", 1 << 30},
		{"1.5GiB", 3 << 29},
		{"600MB", 600e6},
		{" 2 gb ", 2e9},
		{"64KiB", 64 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{"", "MiB", "12TB", "-5MiB", "1.2.3GiB", "0"} {
		_, err := parseSize(bad)
		assert.Error(t, err, bad)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantSize string
		wantOut  string
	}{
		{"defaults", nil, nil, defaultSize, defaultOut},
		{"quick flag", []string{"--quick"}, nil, quickSize, quickOut},
		{"quick from the environment", nil, map[string]string{"BENCH_QUICK": "1"}, quickSize,
			quickOut},
		{"quick flag over environment", []string{"--quick=false"},
			map[string]string{"BENCH_QUICK": "1"}, defaultSize, defaultOut},
		{"size from the environment", nil, map[string]string{"BENCH_SIZE": "2GiB"}, "2GiB",
			defaultOut},
		{"size flag over environment", []string{"--size", "700MiB"},
			map[string]string{"BENCH_SIZE": "2GiB"}, "700MiB", defaultOut},
		{"quick with a size", []string{"--quick", "--size", "50MiB"}, nil, "50MiB", quickOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &options{}
			fs := pflag.NewFlagSet("grim-bench", pflag.ContinueOnError)
			o.bind(fs)
			require.NoError(t, fs.Parse(tt.args))
			o.resolve(fs.Changed("quick"), func(k string) string { return tt.env[k] })
			assert.Equal(t, tt.wantSize, o.size)
			assert.Equal(t, tt.wantOut, o.out)
		})
	}
}
