package protocol

import "fmt"

// The range of protocol versions this build speaks. See the package comment for history.
const (
	ProtocolMin = 1
	ProtocolMax = 1
)

// VersionRangeError reports that a peer's protocol versions and ours do not overlap, or
// that the peer sent an empty range.
type VersionRangeError struct {
	PeerMin, PeerMax int
}

// Error implements error.
func (e *VersionRangeError) Error() string {
	return fmt.Sprintf("protocol: no common version: peer speaks %d to %d, we speak %d to %d",
		e.PeerMin, e.PeerMax, ProtocolMin, ProtocolMax)
}

// Is makes errors.Is(err, ErrUnsupportedVersion) true.
func (e *VersionRangeError) Is(target error) bool { return target == ErrUnsupportedVersion }

// Negotiate returns the highest protocol version in both the peer's range and ours, or a
// *VersionRangeError when there is none.
func Negotiate(peerMin, peerMax int) (int, error) {
	lo, hi := max(peerMin, ProtocolMin), min(peerMax, ProtocolMax)
	if peerMin > peerMax || lo > hi {
		return 0, &VersionRangeError{PeerMin: peerMin, PeerMax: peerMax}
	}
	return hi, nil
}
