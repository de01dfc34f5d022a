package tree

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
)

func sampleNodes() []Node {
	sub := blob.ID{7}
	when := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	return []Node{
		{Name: "zeta", Type: TypeFile, Mode: 0o644, ModTime: when, Size: 3,
			Content: []blob.ID{{1}, {2}}},
		{Name: "alpha", Type: TypeDir, Mode: 0o755, ModTime: when, Subtree: &sub,
			Xattrs: []Xattr{{Name: "user.a", Value: []byte{0, 1}}}},
		{Name: "link", Type: TypeSymlink, LinkTarget: "../x", ModTime: when},
		{Name: "null", Type: TypeCharDev, RDev: 259, ModTime: when},
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	a := Tree{Nodes: sampleNodes()}
	want, err := a.Marshal()
	require.NoError(t, err)

	shuffled := sampleNodes()
	shuffled[0], shuffled[3] = shuffled[3], shuffled[0]
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	for i := range shuffled {
		shuffled[i].ModTime = shuffled[i].ModTime.In(paris)
	}
	b := Tree{Nodes: shuffled}
	got, err := b.Marshal()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "order and time zone must not matter")

	back, err := Unmarshal(got, false)
	require.NoError(t, err)
	names := make([]string, len(back.Nodes))
	for i, n := range back.Nodes {
		names[i] = n.Name
	}
	assert.Equal(t, []string{"alpha", "link", "null", "zeta"}, names)
	again, err := back.Marshal()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(again), "a decoded tree encodes to the same bytes")
}

func encode(t *testing.T, nodes ...Node) []byte {
	t.Helper()
	b, err := json.Marshal(Tree{Nodes: nodes})
	require.NoError(t, err)
	return b
}

func TestUnmarshalRejects(t *testing.T) {
	sub := blob.ID{1}
	file := func(name string) Node { return Node{Name: name, Type: TypeFile} }
	tests := []struct {
		name string
		data []byte
		root bool
	}{
		{"not json", []byte("{"), false},
		{"empty name", encode(t, file("")), false},
		{"dot", encode(t, file(".")), false},
		{"dot dot", encode(t, file("..")), false},
		{"slash", encode(t, file("a/b")), false},
		{"nul", encode(t, file("a\x00b")), false},
		{"absolute in subtree", encode(t, file("/etc")), false},
		{"unknown type", encode(t, Node{Name: "a", Type: "door"}), false},
		{"no type", encode(t, Node{Name: "a"}), false},
		{"dir without subtree", encode(t, Node{Name: "a", Type: TypeDir}), false},
		{"duplicate", encode(t, file("a"), Node{Name: "a", Type: TypeDir, Subtree: &sub}),
			false},
		{"relative root", encode(t, file("etc")), true},
		{"root with dot dot", encode(t, file("/var/../etc")), true},
		{"root trailing slash", encode(t, file("/var/")), true},
		{"root double slash", encode(t, file("/var//www")), true},
		{"duplicate root", encode(t, file("/a"), file("/a")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal(tt.data, tt.root)
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestUnmarshalAccepts(t *testing.T) {
	sub := blob.ID{1}
	tests := []struct {
		name  string
		nodes []Node
		root  bool
	}{
		{"empty tree", nil, false},
		{"every type", []Node{
			{Name: "f", Type: TypeFile}, {Name: "d", Type: TypeDir, Subtree: &sub},
			{Name: "l", Type: TypeSymlink}, {Name: "b", Type: TypeDevice},
			{Name: "c", Type: TypeCharDev}, {Name: "p", Type: TypeFIFO},
			{Name: "s", Type: TypeSocket}}, false},
		{"odd but valid names", []Node{{Name: "...", Type: TypeFile},
			{Name: " space\ttab\n", Type: TypeFile}, {Name: "ünïcode", Type: TypeFile}}, false},
		{"root paths", []Node{{Name: "/", Type: TypeDir, Subtree: &sub},
			{Name: "/var/www", Type: TypeDir, Subtree: &sub},
			{Name: "/etc/hosts", Type: TypeFile}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unmarshal(encode(t, tt.nodes...), tt.root)
			require.NoError(t, err)
			assert.Len(t, got.Nodes, len(tt.nodes))
		})
	}
}

func TestValidRootName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"/", true},
		{"/a", true},
		{"/var/www", true},
		{"/a/.../b", true},
		{"", false},
		{"a", false},
		{"a/b", false},
		{"/a/", false},
		{"//a", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/a\x00", false},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, "/", "|"), func(t *testing.T) {
			assert.Equal(t, tt.want, ValidRootName(tt.name))
		})
	}
}

// FuzzUnmarshal checks that decoding never panics and that whatever decodes, encodes and
// decodes again to the same tree.
func FuzzUnmarshal(f *testing.F) {
	t := Tree{Nodes: sampleNodes()}
	seed, err := t.Marshal()
	require.NoError(f, err)
	f.Add(seed, false)
	f.Add([]byte(`{"nodes":[{"name":"/a","type":"file"}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, root bool) {
		got, err := Unmarshal(data, root)
		if err != nil {
			return
		}
		enc, err := got.Marshal()
		require.NoError(t, err)
		again, err := Unmarshal(enc, root)
		require.NoError(t, err)
		assert.Len(t, again.Nodes, len(got.Nodes))
	})
}
