package buildinfo

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOlder(t *testing.T) {
	tests := []struct {
		v, ours string
		want    bool
	}{
		{"0.1.0", "0.2.0", true},
		{"v0.1.9", "0.2.0", true},
		{"0.2.0", "0.2.0", false},
		{"0.2.1", "0.2.0", false},
		{"0.2.0-dev", "0.2.1-3-gabc", true},
		{"1.0", "1.0.1", true},
		{"2.0.0", "1.9.9", false},
		{"", "0.2.0", false},
		{"unknown", "0.2.0", false},
		{"0.1.0", "0.1.0-dev", false},
		{"1.2.3.4", "2.0.0", false},
		{"1.-2.0", "2.0.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.v+"_vs_"+tt.ours, func(t *testing.T) {
			assert.Equal(t, tt.want, Older(tt.v, tt.ours))
		})
	}
}
