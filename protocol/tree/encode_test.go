package tree

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
)

// Strings that take every branch of the escaping: plain, HTML characters, control
// characters, quotes, multi-byte runes, the two separators JSON escapes, invalid UTF-8.
var trickyStrings = []string{
	"", "plain.txt", "a<b>&c", "tab\there", "nl\nret\rff\fbs\b", "quote\"back\\slash",
	"\x00\x01\x1f\x7f", "été 日本", "line\u2028para\u2029", "bad\xffutf8\xc3", "\xe2\x80",
	"emoji 🙂", "\u2027\u202a", "<script>",
}

func randomString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return trickyStrings[r.IntN(len(trickyStrings))]
	}
	b := make([]byte, r.IntN(24))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randomTime(r *rand.Rand) time.Time {
	switch r.IntN(4) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(r.Int64N(1<<34), 0)
	default:
		return time.Unix(r.Int64N(1<<34), r.Int64N(1e9))
	}
}

func randomID(r *rand.Rand) blob.ID {
	var id blob.ID
	for i := range id {
		id[i] = byte(r.IntN(256))
	}
	return id
}

// randomNumber is often zero, to take the omitempty branches, and sometimes huge.
func randomNumber(r *rand.Rand) uint64 {
	switch r.IntN(3) {
	case 0:
		return 0
	case 1:
		return r.Uint64()
	}
	return uint64(r.IntN(5000))
}

func randomNode(r *rand.Rand) Node {
	n := Node{
		Name: randomString(r), Type: randomString(r), Mode: r.Uint32(), UID: r.Uint32(),
		GID: r.Uint32(), User: randomString(r), Group: randomString(r),
		ModTime: randomTime(r), AccessTime: randomTime(r), ChangeTime: randomTime(r),
		Size: randomNumber(r), Inode: randomNumber(r), Device: randomNumber(r),
		Links: randomNumber(r), RDev: randomNumber(r), LinkTarget: randomString(r),
	}
	switch r.IntN(3) {
	case 0:
		n.Content = []blob.ID{} // empty but not nil: left out like nil
	case 1:
		for range r.IntN(5) + 1 {
			n.Content = append(n.Content, randomID(r))
		}
	}
	if r.IntN(2) == 0 {
		id := randomID(r)
		n.Subtree = &id
	}
	for k := range r.IntN(4) {
		x := Xattr{Name: randomString(r)}
		switch k % 3 {
		case 1:
			x.Value = []byte{}
		case 2:
			x.Value = []byte(randomString(r))
		}
		n.Xattrs = append(n.Xattrs, x)
	}
	return n
}

// TestMarshalMatchesEncodingJSON holds the hand-written encoder to encoding/json byte for
// byte: a difference would change the id of every unchanged directory.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		tr := Tree{}
		if i > 0 {
			tr.Nodes = make([]Node, r.IntN(6))
		}
		for k := range tr.Nodes {
			tr.Nodes[k] = randomNode(r)
		}
		got, err := tr.Marshal()
		require.NoError(t, err)
		want, err := json.Marshal(&tr)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "tree %d", i)
	}
}

func TestMarshalRefusesWhatEncodingJSONRefuses(t *testing.T) {
	tr := Tree{Nodes: []Node{{Name: "far", Type: TypeFile,
		ModTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	_, err := tr.Marshal()
	assert.Error(t, err, "a year past 9999 has no RFC 3339 form")
}

// FuzzMarshal compares the encoder with encoding/json on fuzzed strings and numbers.
func FuzzMarshal(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, s, uint64(0), int64(0))
	}
	f.Fuzz(func(t *testing.T, name, target string, size uint64, sec int64) {
		id := blob.ID{1}
		tr := Tree{Nodes: []Node{{Name: name, Type: TypeSymlink, User: target,
			LinkTarget: target, Size: size, ModTime: time.Unix(sec, 0), Subtree: &id,
			Xattrs: []Xattr{{Name: name, Value: []byte(target)}}}}}
		got, gotErr := tr.Marshal()
		want, wantErr := json.Marshal(&tr)
		if wantErr != nil {
			if gotErr == nil {
				t.Fatalf("encoding/json refused %q but Marshal did not", want)
			}
			return
		}
		if gotErr != nil || string(got) != string(want) {
			t.Fatalf("Marshal gave %q (%v), encoding/json %q", got, gotErr, want)
		}
	})
}
