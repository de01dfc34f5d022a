package protocol

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
)

func TestDataMessagesRoundTrip(t *testing.T) {
	id := blob.ID{1, 2, 3}
	msgs := []Message{
		&DataOpen{JobID: "backup_1"}, &DataOpenAck{},
		&MissingRequest{IDs: []blob.ID{id, {9}}}, &MissingResponse{Missing: []bool{true, false}},
		&BlobPut{Kind: blob.KindTree, RawLength: 77, ID: id, Sealed: []byte("sealed")},
		&FlushRequest{}, &FlushResponse{},
		&GetRequest{IDs: []blob.ID{id}}, &BlobData{ID: id, Sealed: []byte("x")}, &GetDone{},
	}
	for _, m := range msgs {
		t.Run(m.Type().String(), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, NewEncoder(&buf).Encode(m))
			got, err := NewDecoder(&buf).Decode()
			require.NoError(t, err)
			assert.Equal(t, m, got)
		})
	}
}

func TestBinaryMessagesRejectBadPayloads(t *testing.T) {
	tests := []struct {
		name    string
		typ     MsgType
		payload []byte
	}{
		{"blob put too short", MsgBlobPut, make([]byte, blobPutHeader)},
		{"blob put bad kind", MsgBlobPut, append([]byte{9}, make([]byte, blobPutHeader)...)},
		{"blob data too short", MsgBlobData, make([]byte, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteFrame(&buf, Frame{Type: tt.typ, Payload: tt.payload}))
			_, err := NewDecoder(&buf).Decode()
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}

func TestEmptyBlobPutRefused(t *testing.T) {
	var buf bytes.Buffer
	assert.Error(t, NewEncoder(&buf).Encode(&BlobPut{ID: blob.ID{1}}))
	assert.Zero(t, buf.Len(), "nothing is written for a refused message")
}

func TestJobLogValueHidesPayload(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	job := &Job{ID: "backup_1", Kind: JobKindBackup,
		Payload: []byte(`{"keys":{"encryption":"c2VjcmV0"}}`)}
	log.Info("job", "job", job)
	assert.NotContains(t, buf.String(), "c2VjcmV0")
	assert.Contains(t, buf.String(), "backup_1")
}

// TestLargeBlobsWrittenWithoutCopy checks the two-part frames of large blob messages:
// the payload reaches the writer as the caller's own slice, and the frames decode as
// they would from one Write. A blob over the frame cap is refused before anything is
// written.
func TestLargeBlobsWrittenWithoutCopy(t *testing.T) {
	sealed := bytes.Repeat([]byte("s"), splitThreshold)
	msgs := []Message{
		&BlobPut{Kind: blob.KindData, RawLength: 1 << 20, ID: blob.ID{7}, Sealed: sealed},
		&BlobData{ID: blob.ID{8}, Sealed: sealed},
	}
	for _, m := range msgs {
		t.Run(m.Type().String(), func(t *testing.T) {
			w := &recordingWriter{}
			require.NoError(t, NewEncoder(w).Encode(m))
			require.Len(t, w.parts, 2)
			assert.Same(t, &sealed[0], &w.parts[1][0], "the payload was copied")
			got, err := NewDecoder(bytes.NewReader(w.all.Bytes())).Decode()
			require.NoError(t, err)
			assert.Equal(t, m, got)
		})
	}

	w := &recordingWriter{}
	err := NewEncoder(w).Encode(&BlobData{ID: blob.ID{9}, Sealed: make([]byte, MaxFrameSize)})
	require.Error(t, err)
	assert.Empty(t, w.parts, "nothing is written for a refused message")
}

// recordingWriter keeps every slice it is given, uncopied, and their concatenation.
type recordingWriter struct {
	parts [][]byte
	all   bytes.Buffer
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.parts = append(r.parts, p)
	r.all.Write(p)
	return len(p), nil
}
