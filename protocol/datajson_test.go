package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
)

func randomIDList(r *rand.Rand, n int) []blob.ID {
	ids := make([]blob.ID, n)
	for i := range ids {
		for k := range ids[i] {
			ids[i][k] = byte(r.IntN(256))
		}
	}
	return ids
}

// TestDataJSONIsEncodingJSONs holds the hand-written JSON of the id and flag lists to
// what encoding/json writes, and checks that it parses back to what encoding/json reads.
func TestDataJSONIsEncodingJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var msgs []Message
	for _, n := range []int{-1, 0, 1, 2, 300} {
		var ids []blob.ID
		var flags []bool
		if n >= 0 {
			ids = randomIDList(r, n)
			flags = make([]bool, n)
			for i := range flags {
				flags[i] = r.IntN(2) == 0
			}
		}
		msgs = append(msgs, &MissingRequest{IDs: ids}, &GetRequest{IDs: ids},
			&MissingResponse{Missing: flags})
	}
	for i, m := range msgs {
		want, err := json.Marshal(m)
		require.NoError(t, err)
		got := m.(jsonAppender).appendJSON(nil)
		require.Equal(t, string(want), string(got), "message %d", i)

		parsed := newMessage(m.Type())
		require.True(t, parsed.(jsonParser).parseJSON(got), "message %d", i)
		viaJSON := newMessage(m.Type())
		require.NoError(t, json.Unmarshal(got, viaJSON))
		require.Equal(t, viaJSON, parsed, "message %d", i)
		require.Equal(t, m, parsed, "message %d", i)
	}
}

// TestDataJSONOtherFormsFallBack decodes JSON that encoding/json accepts but the writer
// never makes, and JSON that is broken: the first decodes as encoding/json decodes it,
// the second fails as it did.
func TestDataJSONOtherFormsFallBack(t *testing.T) {
	id := strings.Repeat("ab", blob.IDSize)
	escaped := `\u0061` + id[1:]
	good := []struct {
		typ  MsgType
		body string
	}{
		{MsgMissingRequest, `{ "ids" : [ "` + id + `" ] }`},
		{MsgMissingRequest, `{"ids":["` + strings.ToUpper(id) + `"]}`},
		{MsgMissingRequest, `{"ids":["` + escaped + `"]}`},
		{MsgMissingRequest, `{"other":1,"ids":["` + id + `"]}`},
		{MsgMissingRequest, `{"ids":["` + id + `"],"other":1}`},
		{MsgMissingRequest, `{}`},
		{MsgGetRequest, `{"ids":[ ]}`},
		{MsgMissingResponse, `{"missing":[true, false]}`},
		{MsgMissingResponse, `{"missing":[true],"missing":[false]}`},
	}
	for _, tc := range good {
		want := newMessage(tc.typ)
		require.NoError(t, json.Unmarshal([]byte(tc.body), want), tc.body)
		got, err := NewDecoder(bytes.NewReader(frame(tc.typ, tc.body))).Decode()
		require.NoError(t, err, tc.body)
		assert.Equal(t, want, got, tc.body)
	}
	bad := []struct {
		typ  MsgType
		body string
	}{
		{MsgMissingRequest, `{"ids":["` + id + `",]}`},
		{MsgMissingRequest, `{"ids":["` + id[:10] + `"]}`},
		{MsgMissingRequest, `{"ids":["` + id + `""` + id + `"]}`},
		{MsgMissingResponse, `{"missing":[true,]}`},
		{MsgMissingResponse, `{"missing":[tru]}`},
	}
	for _, tc := range bad {
		_, err := NewDecoder(bytes.NewReader(frame(tc.typ, tc.body))).Decode()
		assert.Error(t, err, tc.body)
	}
}

// BenchmarkMissingJSON encodes and decodes a MissingRequest of 256 ids and its answer,
// as every batch of a backup does on both sides.
func BenchmarkMissingJSON(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	req := &MissingRequest{IDs: randomIDList(r, 256)}
	resp := &MissingResponse{Missing: make([]bool, 256)}
	for _, m := range []Message{req, resp} {
		b.Run(fmt.Sprint(m.Type()), func(b *testing.B) {
			var buf bytes.Buffer
			enc := NewEncoder(&buf)
			dec := NewDecoder(&buf)
			b.ReportAllocs()
			for b.Loop() {
				if err := enc.Encode(m); err != nil {
					b.Fatal(err)
				}
				if _, err := dec.Decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
