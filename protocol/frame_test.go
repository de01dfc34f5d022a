package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// header builds a raw frame header, valid unless the caller changes a field.
func header(t MsgType, n uint32) []byte {
	b := []byte{Magic, WireVersion, byte(t), 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], n)
	return b
}

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", []byte{}},
		{"small", []byte(`{"seq":1}`)},
		{"two writes", bytes.Repeat([]byte("x"), initialPayloadCap+1)},
		{"at the cap", bytes.Repeat([]byte("y"), MaxFrameSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteFrame(&buf, Frame{Type: MsgHeartbeat, Payload: tt.payload}))
			assert.Equal(t, HeaderSize+len(tt.payload), buf.Len())

			f, err := ReadFrame(&buf, 0)
			require.NoError(t, err)
			assert.Equal(t, MsgHeartbeat, f.Type)
			assert.Equal(t, tt.payload, f.Payload)
			assert.Zero(t, buf.Len(), "reader consumed exactly one frame")
		})
	}
}

func TestReadFrameRejects(t *testing.T) {
	valid := append(header(MsgHeartbeatAck, 2), '{', '}')
	with := func(i int, b byte) []byte {
		c := bytes.Clone(valid)
		c[i] = b
		return c
	}
	tests := []struct {
		name  string
		input []byte
		max   int
		want  error
	}{
		{"bad magic", with(0, 'X'), 0, ErrBadMagic},
		{"unknown version", with(1, 2), 0, ErrUnsupportedVersion},
		{"unknown type", with(2, 200), 0, ErrUnknownType},
		{"type zero", with(2, 0), 0, ErrUnknownType},
		{"flags set", with(3, 1), 0, ErrBadFlags},
		{"above the cap", header(MsgJob, MaxFrameSize+1), 0, ErrFrameTooLarge},
		{"above a lower max", append(header(MsgJob, 11), make([]byte, 11)...), 10,
			ErrFrameTooLarge},
		{"truncated header", valid[:5], 0, io.ErrUnexpectedEOF},
		{"truncated payload", valid[:HeaderSize+1], 0, io.ErrUnexpectedEOF},
		{"missing payload", valid[:HeaderSize], 0, io.ErrUnexpectedEOF},
		{"empty input", nil, 0, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tt.input), tt.max)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestReadFrameVersionError(t *testing.T) {
	b := header(MsgHello, 0)
	b[1] = 9
	_, err := ReadFrame(bytes.NewReader(b), 0)

	var ve *VersionError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, uint8(9), ve.Got)
}

func TestReadFrameEOFIsUnwrapped(t *testing.T) {
	_, err := ReadFrame(bytes.NewReader(nil), 0)
	assert.Same(t, io.EOF, err) //nolint:errorlint // the contract is an unwrapped io.EOF
}

func TestWriteFrameRejects(t *testing.T) {
	tests := []struct {
		name  string
		frame Frame
		want  error
	}{
		{"unknown type", Frame{Type: 99}, ErrUnknownType},
		{"too large", Frame{Type: MsgJob, Payload: make([]byte, MaxFrameSize+1)}, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			assert.ErrorIs(t, WriteFrame(&buf, tt.frame), tt.want)
			assert.Zero(t, buf.Len())
		})
	}
}

// endless yields an endless stream of zero bytes after its prefix.
type endless struct{ prefix []byte }

func (e *endless) Read(p []byte) (int, error) {
	if len(e.prefix) > 0 {
		n := copy(p, e.prefix)
		e.prefix = e.prefix[n:]
		return n, nil
	}
	clear(p)
	return len(p), nil
}

// allocated returns the bytes the process allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReadFrameBoundedAllocation(t *testing.T) {
	t.Run("claims 4 GiB", func(t *testing.T) {
		r := &endless{prefix: header(MsgJob, math.MaxUint32)}
		var err error
		n := allocated(func() { _, err = ReadFrame(r, 0) })
		assert.ErrorIs(t, err, ErrFrameTooLarge)
		assert.Less(t, n, uint64(1<<20), "bytes allocated")
	})
	t.Run("claims the cap, sends little", func(t *testing.T) {
		in := append(header(MsgJob, MaxFrameSize), make([]byte, 100)...)
		var err error
		n := allocated(func() { _, err = ReadFrame(bytes.NewReader(in), 0) })
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Less(t, n, uint64(1<<20), "bytes allocated")
	})
}

// failingReader returns its error after its data.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadFramePassesReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := &failingReader{data: header(MsgJob, 10), err: boom}
	_, err := ReadFrame(r, 0)
	assert.ErrorIs(t, err, boom)
}
