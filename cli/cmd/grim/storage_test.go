package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReadData(t *testing.T) {
	tests := []struct {
		in   string
		want any
		bad  bool
	}{
		{"all", true, false}, {"ALL", true, false}, {"none", false, false},
		{"25", 25.0, false}, {"12.5%", 12.5, false}, {"150", 150.0, false},
		{"some", nil, true}, {"", nil, true},
	}
	for _, tt := range tests {
		got, err := parseReadData(tt.in)
		if tt.bad {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}
