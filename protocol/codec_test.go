package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
)

// samples returns one filled-in message of every type.
func samples() []Message {
	sent := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	return []Message{
		&Hello{ProtocolMin: 1, ProtocolMax: 1, AgentVersion: "1.0.0", Hostname: "db1",
			OS: "linux", Arch: "amd64", Name: "db1"},
		&HelloAck{Protocol: 1, AgentID: "ag_1", AgentName: "db1", ControllerVersion: "1.0.0",
			HeartbeatSeconds: 15},
		&EnrollRequest{Token: "gjt1.x.y.z", Name: "db1", Hostname: "db1", OS: "linux",
			Arch: "arm64", AgentVersion: "1.0.0", CSR: []byte{0x30, 0x82, 0x01}},
		&EnrollResponse{AgentID: "ag_1", AgentName: "db1", Certificate: []byte{1, 2},
			CACertificate: []byte{3, 4}},
		&Heartbeat{Seq: 42, SentAt: sent},
		&HeartbeatAck{Seq: 42},
		&Job{ID: "job_1", Kind: "backup", Payload: json.RawMessage(`{"paths":["/etc"]}`)},
		&JobProgress{ID: "job_1", Percent: 12.5, Message: "scanning <root> & more",
			Data: json.RawMessage(`{"files":3}`)},
		&JobResult{ID: "job_1", OK: false, Error: "disk full", Data: json.RawMessage(`[1,2]`)},
		&Error{Code: ErrCodeBadMessage, Message: "want hello"},
		&DataOpen{JobID: "backup_1"},
		&MissingRequest{IDs: []blob.ID{{1}, {2}}},
		&MissingResponse{Missing: []bool{true}},
		&BlobPut{Kind: blob.KindData, RawLength: 3, ID: blob.ID{7}, Sealed: []byte{1, 2, 3}},
		&FlushRequest{},
		&GetRequest{IDs: []blob.ID{{3}}},
		&BlobData{ID: blob.ID{4}, Sealed: []byte{9}},
		&GetDone{},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range samples() {
		t.Run(m.Type().String(), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, NewEncoder(&buf).Encode(m))

			got, err := NewDecoder(&buf).Decode()
			require.NoError(t, err)
			assert.Equal(t, m, got)
			assert.Equal(t, m.Type(), got.Type())
		})
	}
}

func TestEncoderOneWritePerMessage(t *testing.T) {
	w := &countingWriter{}
	enc := NewEncoder(w)
	for _, m := range samples() {
		require.NoError(t, enc.Encode(m))
	}
	assert.Equal(t, len(samples()), w.writes)

	dec := NewDecoder(bytes.NewReader(w.buf.Bytes()))
	for _, want := range samples() {
		got, err := dec.Decode()
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := dec.Decode()
	assert.Same(t, io.EOF, err) //nolint:errorlint // the contract is an unwrapped io.EOF
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.buf.Write(p)
}

// unknownMsg is a Message of a type the package does not define.
type unknownMsg struct{}

func (unknownMsg) Type() MsgType { return 99 }

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want error
	}{
		{"nil", nil, nil},
		{"unknown type", unknownMsg{}, ErrUnknownType},
		{"too large", &Job{ID: "j", Payload: json.RawMessage(`"` +
			string(bytes.Repeat([]byte("a"), MaxFrameSize)) + `"`)}, ErrFrameTooLarge},
		{"bad raw json", &Job{Payload: json.RawMessage(`{`)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := NewEncoder(&buf).Encode(tt.msg)
			require.Error(t, err)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.Zero(t, buf.Len(), "nothing written")
		})
	}
}

// frame returns the raw frame of type t around payload.
func frame(t MsgType, payload string) []byte {
	return append(header(t, uint32(len(payload))), payload...)
}

func TestDecodePayloads(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		want    Message
		wantErr bool
	}{
		{"unknown fields are ignored", frame(MsgHeartbeatAck, `{"seq":7,"new_field":[1]}`),
			&HeartbeatAck{Seq: 7}, false},
		{"missing fields are zero", frame(MsgHello, `{"name":"x"}`), &Hello{Name: "x"}, false},
		{"wrong field type", frame(MsgHeartbeatAck, `{"seq":"7"}`), nil, true},
		{"negative unsigned", frame(MsgHeartbeatAck, `{"seq":-1}`), nil, true},
		{"not an object", frame(MsgHello, `[1,2]`), nil, true},
		{"empty payload", frame(MsgHello, ``), nil, true},
		{"trailing data", frame(MsgHello, `{}{}`), nil, true},
		{"bad time", frame(MsgHeartbeat, `{"sent_at":"yesterday"}`), nil, true},
		{"bad base64", frame(MsgEnrollResponse, `{"certificate":"***"}`), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewDecoder(bytes.NewReader(tt.input)).Decode()
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, MsgType(tt.input[2]), de.Type)
			assert.NotNil(t, errors.Unwrap(de))
		})
	}
}

// TestDecoderReuseBuffer decodes binary messages of growing and shrinking sizes, with
// JSON ones between them, through one reused buffer: each is right when decoded, and a
// payload that fits takes the storage of the one before.
func TestDecoderReuseBuffer(t *testing.T) {
	var msgs []Message
	for i, n := range []int{100 << 10, 10, 1 << 20, 50 << 10, 3} {
		sealed := bytes.Repeat([]byte{byte(i)}, n)
		msgs = append(msgs, &BlobData{ID: blob.ID{byte(i)}, Sealed: sealed},
			&MissingRequest{IDs: []blob.ID{{byte(i)}}})
	}
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for _, m := range msgs {
		require.NoError(t, enc.Encode(m))
	}
	d := NewDecoder(&buf)
	d.ReuseBuffer()
	var prev *byte
	for i, want := range msgs {
		got, err := d.Decode()
		require.NoError(t, err)
		require.Equal(t, want, got, "message %d", i)
		if bd, ok := got.(*BlobData); ok {
			if i == 6 { // 50 KiB after 1 MiB: the buffer is the one before
				assert.Same(t, prev, &bd.Sealed[0])
			}
			prev = &bd.Sealed[0]
		}
	}
	_, err := d.Decode()
	assert.ErrorIs(t, err, io.EOF)
}

func TestDecoderMaxFrameSize(t *testing.T) {
	in := frame(MsgHello, `{"name":"a rather long agent name"}`)
	d := NewDecoder(bytes.NewReader(in))
	d.SetMaxFrameSize(10)
	_, err := d.Decode()
	assert.ErrorIs(t, err, ErrFrameTooLarge)
}

func TestDecoderDoesNotReadAhead(t *testing.T) {
	in := append(frame(MsgHeartbeatAck, `{"seq":1}`), "raw bytes"...)
	r := bytes.NewReader(in)
	_, err := NewDecoder(r).Decode()
	require.NoError(t, err)

	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "raw bytes", string(rest))
}

func TestExpect(t *testing.T) {
	encode := func(m Message) *Decoder {
		var buf bytes.Buffer
		require.NoError(t, NewEncoder(&buf).Encode(m))
		return NewDecoder(&buf)
	}

	t.Run("wanted type", func(t *testing.T) {
		ack, err := Expect[*HelloAck](encode(&HelloAck{AgentID: "ag_1"}))
		require.NoError(t, err)
		assert.Equal(t, "ag_1", ack.AgentID)
	})
	t.Run("error message", func(t *testing.T) {
		_, err := Expect[*HelloAck](encode(&Error{Code: ErrCodeUnauthorized, Message: "revoked"}))
		var re *RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, &RemoteError{Code: ErrCodeUnauthorized, Message: "revoked"}, re)
	})
	t.Run("expecting an error message", func(t *testing.T) {
		e, err := Expect[*Error](encode(&Error{Code: ErrCodeInternal}))
		require.NoError(t, err)
		assert.Equal(t, ErrCodeInternal, e.Code)
	})
	t.Run("other type", func(t *testing.T) {
		_, err := Expect[*HelloAck](encode(&Heartbeat{Seq: 1}))
		var ue *UnexpectedMessageError
		require.ErrorAs(t, err, &ue)
		assert.EqualError(t, err, "unexpected message heartbeat, want hello_ack")
	})
	t.Run("end of stream", func(t *testing.T) {
		_, err := Expect[*HelloAck](NewDecoder(bytes.NewReader(nil)))
		assert.ErrorIs(t, err, io.EOF)
	})
}

func TestMsgTypeString(t *testing.T) {
	names := map[string]bool{}
	for _, m := range samples() {
		s := m.Type().String()
		assert.NotContains(t, s, "MsgType", "every sample has a name")
		assert.False(t, names[s], "name %q is unique", s)
		names[s] = true
	}
	assert.Equal(t, "MsgType(200)", MsgType(200).String())
}

func TestEnrollRequestLogHidesToken(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("enrol", "request", EnrollRequest{Token: "gjt1.secret", Name: "db1"})
	assert.NotContains(t, buf.String(), "secret")
	assert.Contains(t, buf.String(), "db1")
}
