package cache

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
)

func testID(i int) blob.ID {
	var id blob.ID
	copy(id[:], fmt.Sprintf("chunk-%d", i))
	return id
}

func testState(i int) FileState {
	return FileState{Size: int64(i), ModTime: int64(i) * 1e9, ChangeTime: int64(i)*1e9 + 7,
		Inode: uint64(1000 + i), Device: 42}
}

func TestOpenMissingIsEmpty(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "none"), nil)
	require.NoError(t, err)
	_, ok := c.Lookup("/a", testState(1))
	assert.False(t, ok)
	assert.Zero(t, c.Len())
}

func TestOpenUnreadableFails(t *testing.T) {
	_, err := Open(t.TempDir(), nil) // a directory cannot be read as a file
	assert.Error(t, err)
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache")
	c, err := Open(path, nil)
	require.NoError(t, err)
	c.Record("/a", testState(1), []blob.ID{testID(1), testID(2)})
	c.Record("/empty", testState(0), nil)
	c.Record("/b", testState(2), []blob.ID{testID(3)})
	require.NoError(t, c.Save())

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	c2, err := Open(path, nil)
	require.NoError(t, err)
	tests := []struct {
		name   string
		path   string
		state  FileState
		want   []blob.ID
		wantOK bool
	}{
		{"hit", "/a", testState(1), []blob.ID{testID(1), testID(2)}, true},
		{"hit empty file", "/empty", testState(0), nil, true},
		{"hit other", "/b", testState(2), []blob.ID{testID(3)}, true},
		{"size changed", "/a", FileState{Size: 9, ModTime: 1e9, ChangeTime: 1e9 + 7,
			Inode: 1001, Device: 42}, nil, false},
		{"ctime changed", "/a", FileState{Size: 1, ModTime: 1e9, ChangeTime: 1,
			Inode: 1001, Device: 42}, nil, false},
		{"unknown path", "/c", testState(1), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c2.Lookup(tt.path, tt.state)
			assert.Equal(t, tt.wantOK, ok)
			assert.Len(t, got, len(tt.want))
			for i := range tt.want {
				assert.Equal(t, tt.want[i], got[i])
			}
		})
	}
}

func TestLookupResultIsCallers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache")
	c, err := Open(path, nil)
	require.NoError(t, err)
	c.Record("/a", testState(1), []blob.ID{testID(1)})
	require.NoError(t, c.Save())
	c2, err := Open(path, nil)
	require.NoError(t, err)

	got, ok := c2.Lookup("/a", testState(1))
	require.True(t, ok)
	got[0] = testID(9)
	again, _ := c2.Lookup("/a", testState(1))
	assert.Equal(t, testID(1), again[0])
}

func TestUnrecordedEntriesDropOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache")
	c, err := Open(path, nil)
	require.NoError(t, err)
	c.Record("/kept", testState(1), []blob.ID{testID(1)})
	c.Record("/deleted", testState(2), []blob.ID{testID(2)})
	require.NoError(t, c.Save())

	c2, err := Open(path, nil)
	require.NoError(t, err)
	ids, ok := c2.Lookup("/kept", testState(1))
	require.True(t, ok)
	c2.Record("/kept", testState(1), ids)
	require.NoError(t, c2.Save())

	c3, err := Open(path, nil)
	require.NoError(t, err)
	_, ok = c3.Lookup("/kept", testState(1))
	assert.True(t, ok)
	_, ok = c3.Lookup("/deleted", testState(2))
	assert.False(t, ok, "an entry not recorded in the last run must be gone")
}

func TestConcurrentRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache")
	c, err := Open(path, nil)
	require.NoError(t, err)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				c.Record(fmt.Sprintf("/f/%d", n), testState(n), []blob.ID{testID(n)})
				c.Lookup(fmt.Sprintf("/f/%d", n), testState(n))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, workers*each, c.Len())
	require.NoError(t, c.Save())

	c2, err := Open(path, nil)
	require.NoError(t, err)
	for n := range workers * each {
		ids, ok := c2.Lookup(fmt.Sprintf("/f/%d", n), testState(n))
		require.True(t, ok, n)
		assert.Equal(t, []blob.ID{testID(n)}, ids)
	}
}

func TestCorruptFileIsEmptyCache(t *testing.T) {
	good := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "cache")
		c, err := Open(path, nil)
		require.NoError(t, err)
		c.Record("/a", testState(1), []blob.ID{testID(1), testID(2)})
		require.NoError(t, c.Save())
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		return data
	}
	tests := []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"garbage", func([]byte) []byte { return []byte("not a cache file at all") }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-10] }},
		{"bit flip", func(b []byte) []byte { b[30] ^= 1; return b }},
		{"wrong magic", func(b []byte) []byte { b[0] = 'X'; return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cache")
			require.NoError(t, os.WriteFile(path, tt.mangle(good(t)), 0o600))
			var logs bytes.Buffer
			c, err := Open(path, slog.New(slog.NewTextHandler(&logs, nil)))
			require.NoError(t, err)
			_, ok := c.Lookup("/a", testState(1))
			assert.False(t, ok)
			assert.Contains(t, logs.String(), "cache unreadable")
			assert.Contains(t, logs.String(), "component=cache")
		})
	}
}

// FuzzDecode feeds the decoder bodies with a valid checksum appended, so that the fuzzer
// gets past the checksum and exercises the parser.
func FuzzDecode(f *testing.F) {
	m := map[key]entry{
		keyOf("/a"): {state: testState(1), ids: []blob.ID{testID(1)}},
		keyOf("/b"): {state: testState(2)},
	}
	for _, seed := range [][]byte{encode(m), encode(map[key]entry{})} {
		f.Add(seed[:len(seed)-trailerSize])
	}
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(slices.Clone(body),
			crc32.Checksum(body, castagnoli))
		got, err := decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must encode to something that decodes to the same entries.
		again, err := decode(encode(got))
		require.NoError(t, err)
		assert.Equal(t, got, again)
	})
}
