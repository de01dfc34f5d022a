package protocol

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name             string
		peerMin, peerMax int
		want             int
		wantErr          bool
	}{
		{"same range", ProtocolMin, ProtocolMax, ProtocolMax, false},
		{"newer peer", ProtocolMin, ProtocolMax + 5, ProtocolMax, false},
		{"older peer that still speaks ours", 0, ProtocolMin, ProtocolMin, false},
		{"peer too new", ProtocolMax + 1, ProtocolMax + 3, 0, true},
		{"peer too old", ProtocolMin - 3, ProtocolMin - 1, 0, true},
		{"empty range", ProtocolMax, ProtocolMin - 1, 0, true},
		{"zero range", 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.peerMin, tt.peerMax)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			var ve *VersionRangeError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.peerMin, ve.PeerMin)
			assert.Equal(t, tt.peerMax, ve.PeerMax)
			assert.ErrorIs(t, err, ErrUnsupportedVersion)
		})
	}
}
