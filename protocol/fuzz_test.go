package protocol

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds arbitrary bytes to a Decoder. Decoding must never panic, and every
// message that decodes must survive encoding: after one trip through the encoder (which
// compacts raw JSON) a message re-encodes to the same bytes and decodes to an equal value.
func FuzzDecode(f *testing.F) {
	var all bytes.Buffer
	enc := NewEncoder(&all)
	for _, m := range samples() {
		var one bytes.Buffer
		require.NoError(f, NewEncoder(&one).Encode(m))
		f.Add(one.Bytes())
		require.NoError(f, enc.Encode(m))
	}
	f.Add(all.Bytes())
	f.Add([]byte{})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add(header(MsgJob, 0xFFFFFFFF))
	f.Add(frame(MsgJob, `{"id":"j","payload":{ "a" : [1, 2] }}`))
	f.Add(frame(MsgHeartbeat, `{"seq":1,"sent_at":"2026-01-02T03:04:05.5+09:30"}`))
	f.Add(frame(MsgHello, "{\"name\":\"\xff\xfe\"}"))

	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data))
		reusing := NewDecoder(bytes.NewReader(data))
		reusing.ReuseBuffer()
		for range 16 {
			m, err := d.Decode()
			m2, err2 := reusing.Decode()
			require.Equal(t, err == nil, err2 == nil, "a reused buffer decodes alike")
			if err != nil {
				return
			}
			require.Equal(t, m, m2, "a reused buffer decodes alike")
			checkReencode(t, m)
		}
	})
}

// checkReencode encodes m, decodes it, and checks the result is a fixed point.
func checkReencode(t *testing.T, m Message) {
	t.Helper()
	first := encodeForTest(t, m)
	m2, err := NewDecoder(bytes.NewReader(first)).Decode()
	require.NoError(t, err, "a decoded message must decode again after encoding")
	require.Equal(t, m.Type(), m2.Type())

	second := encodeForTest(t, m2)
	assert.Equal(t, first, second, "encoding is stable")

	m3, err := NewDecoder(bytes.NewReader(second)).Decode()
	require.NoError(t, err)
	assert.Equal(t, m2, m3, "decoding is stable")
}

func encodeForTest(t *testing.T, m Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, NewEncoder(&buf).Encode(m), "a decoded message must encode")
	return buf.Bytes()
}
