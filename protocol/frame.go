package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

const (
	// Magic is the first byte of every frame.
	Magic byte = 0x47

	// WireVersion is the version of the frame layout that this package reads and writes.
	WireVersion uint8 = 1

	// HeaderSize is the size of a frame header in bytes.
	HeaderSize = 8

	// MaxFrameSize is the largest payload a frame may carry. Readers may set a lower limit.
	MaxFrameSize = 16 << 20
)

// initialPayloadCap is how much a reader allocates for a payload before any of it has
// arrived; it grows the buffer as data comes, so a header that lies about its length costs
// little.
const initialPayloadCap = 64 << 10

var (
	// ErrBadMagic reports a frame that does not start with Magic.
	ErrBadMagic = errors.New("protocol: bad magic byte")

	// ErrBadFlags reports a frame with flags this wire version does not define.
	ErrBadFlags = errors.New("protocol: unsupported frame flags")

	// ErrUnknownType reports a frame whose message type this package does not know.
	ErrUnknownType = errors.New("protocol: unknown message type")

	// ErrFrameTooLarge reports a payload above the reader's or writer's limit.
	ErrFrameTooLarge = errors.New("protocol: frame too large")

	// ErrUnsupportedVersion matches both *VersionError and *VersionRangeError with
	// errors.Is, for callers that answer either with ErrCodeVersion.
	ErrUnsupportedVersion = errors.New("protocol: unsupported version")
)

// VersionError reports a frame of a wire version this package does not speak.
type VersionError struct {
	Got uint8 // the wire version in the frame
}

// Error implements error.
func (e *VersionError) Error() string {
	return fmt.Sprintf("protocol: unsupported wire version %d (want %d)", e.Got, WireVersion)
}

// Is makes errors.Is(err, ErrUnsupportedVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrUnsupportedVersion }

// Frame is one message type and its encoded payload, as it travels on the wire.
type Frame struct {
	Type    MsgType
	Payload []byte
}

// ReadFrame reads exactly one frame from r. It reads nothing past the frame's end.
//
// A maxSize of zero or less, or above MaxFrameSize, means MaxFrameSize. ReadFrame returns
// io.EOF, unwrapped, only when r ends cleanly before the first byte of a frame, and
// io.ErrUnexpectedEOF when it ends inside one. Other errors are ErrBadMagic, ErrBadFlags,
// ErrUnknownType, ErrFrameTooLarge (all wrapped with details), *VersionError, or the
// error of r.
func ReadFrame(r io.Reader, maxSize int) (Frame, error) {
	return readFrame(r, limit(maxSize), nil)
}

// readFrame is ReadFrame with the payload read into buf's storage.
func readFrame(r io.Reader, maxSize int, buf []byte) (Frame, error) {
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, err
	}
	t, n, err := parseHeader(hdr, maxSize)
	if err != nil {
		return Frame{}, err
	}
	payload, err := readPayload(r, n, buf)
	if err != nil {
		return Frame{}, fmt.Errorf("read %s payload: %w", t, err)
	}
	return Frame{Type: t, Payload: payload}, nil
}

// WriteFrame writes f to w. It refuses an unknown type or a payload above MaxFrameSize.
// A small frame goes out in one Write call, a large one in two.
func WriteFrame(w io.Writer, f Frame) error {
	if err := checkOutgoing(f.Type, len(f.Payload)); err != nil {
		return err
	}
	if len(f.Payload) > initialPayloadCap {
		var hdr [HeaderSize]byte
		putHeader(hdr[:], f.Type, len(f.Payload))
		if _, err := w.Write(hdr[:]); err != nil {
			return fmt.Errorf("write %s header: %w", f.Type, err)
		}
		if _, err := w.Write(f.Payload); err != nil {
			return fmt.Errorf("write %s payload: %w", f.Type, err)
		}
		return nil
	}
	buf := make([]byte, HeaderSize, HeaderSize+len(f.Payload))
	putHeader(buf, f.Type, len(f.Payload))
	if _, err := w.Write(append(buf, f.Payload...)); err != nil {
		return fmt.Errorf("write %s frame: %w", f.Type, err)
	}
	return nil
}

func limit(maxSize int) int {
	if maxSize <= 0 || maxSize > MaxFrameSize {
		return MaxFrameSize
	}
	return maxSize
}

// parseHeader validates a header and returns the type and payload length it announces.
func parseHeader(hdr [HeaderSize]byte, maxSize int) (MsgType, int, error) {
	if hdr[0] != Magic {
		return 0, 0, fmt.Errorf("%w 0x%02x", ErrBadMagic, hdr[0])
	}
	if hdr[1] != WireVersion {
		return 0, 0, &VersionError{Got: hdr[1]}
	}
	t := MsgType(hdr[2])
	if !t.known() {
		return 0, 0, fmt.Errorf("%w %d", ErrUnknownType, hdr[2])
	}
	if hdr[3] != 0 {
		return 0, 0, fmt.Errorf("%w 0x%02x", ErrBadFlags, hdr[3])
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if uint64(n) > uint64(maxSize) {
		return 0, 0, fmt.Errorf("%w: %s of %d bytes, limit %d", ErrFrameTooLarge, t, n, maxSize)
	}
	return t, int(n), nil
}

// readPayload reads n bytes into buf's storage, growing it as data arrives rather than
// trusting n: a buffer shorter than n is grown only by as much as has come.
func readPayload(r io.Reader, n int, buf []byte) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) == 0 {
		buf = make([]byte, 0, min(n, initialPayloadCap))
	}
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), n-len(buf)))
		}
		m, err := io.ReadFull(r, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func checkOutgoing(t MsgType, n int) error {
	if !t.known() {
		return fmt.Errorf("%w %d", ErrUnknownType, uint8(t))
	}
	if n > MaxFrameSize {
		return fmt.Errorf("%w: %s of %d bytes, limit %d", ErrFrameTooLarge, t, n, MaxFrameSize)
	}
	return nil
}

// putHeader writes a frame header into b, which must hold at least HeaderSize bytes.
func putHeader(b []byte, t MsgType, n int) {
	b[0] = Magic
	b[1] = WireVersion
	b[2] = uint8(t)
	b[3] = 0
	binary.BigEndian.PutUint32(b[4:HeaderSize], uint32(n))
}
