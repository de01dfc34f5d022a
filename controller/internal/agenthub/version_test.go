package agenthub

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/transport"
)

// TestNeighbourReleasesNegotiate holds the promise of the protocol's compatibility rule:
// agents a release older or newer than the controller, which speak the protocol range of
// their release, still connect, on the highest version both speak.
func TestNeighbourReleasesNegotiate(t *testing.T) {
	f := newFixture(t, true, true)
	tests := []struct {
		name     string
		min, max int
		want     int
	}{
		{"same release", protocol.ProtocolMin, protocol.ProtocolMax, protocol.ProtocolMax},
		{"agent one release newer", protocol.ProtocolMax, protocol.ProtocolMax + 1,
			protocol.ProtocolMax},
		{"agent one release older", protocol.ProtocolMin - 1, protocol.ProtocolMin,
			protocol.ProtocolMin},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, _, err := f.enroll(t, transport.ModeTCP, f.token(t), fmt.Sprintf("host-%d", i))
			require.NoError(t, err)
			h := hello()
			h.ProtocolMin, h.ProtocolMax = tt.min, tt.max
			a, err := f.connect(t, transport.ModeTCP, cert, h)
			require.NoError(t, err)
			assert.Equal(t, tt.want, a.ack.Protocol)
		})
	}
}
