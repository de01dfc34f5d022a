package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var small = Spec{Seed: DefaultSeed, Size: 16 * MiB}

// digest hashes every path and content of a tree, for comparing runs.
func digest(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, path)
		h.Write([]byte(rel + "\x00"))
		if d.Type().IsRegular() {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			h.Write(raw)
		}
		return nil
	})
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	stA, err := Generate(context.Background(), a, small)
	require.NoError(t, err)
	stB, err := Generate(context.Background(), b, small)
	require.NoError(t, err)

	assert.Equal(t, stA, stB)
	assert.Equal(t, digest(t, a), digest(t, b))
	assert.InDelta(t, small.Size, stA.Bytes, float64(maxTextSize*2), "size near the spec")
	require.NoError(t, Equal(a, b))
}

func TestPlanShares(t *testing.T) {
	p := newPlan(Spec{Seed: DefaultSeed, Size: 800 * MiB})
	assert.Equal(t, int64(64*MiB), p.largeLow)
	assert.Greater(t, len(p.text), 15000)
	assert.GreaterOrEqual(t, len(p.large), 3)
	for _, f := range p.large[:len(p.large)-1] {
		assert.GreaterOrEqual(t, f.size, p.largeLow, f.rel)
	}
	assert.InDelta(t, 800*MiB, p.bytes(), float64(maxTextSize*2))
}

func TestMutate(t *testing.T) {
	v1, v2 := filepath.Join(t.TempDir(), "v1"), filepath.Join(t.TempDir(), "v2")
	_, err := Generate(context.Background(), v1, small)
	require.NoError(t, err)
	_, err = Generate(context.Background(), v2, small)
	require.NoError(t, err)

	ch, err := Mutate(context.Background(), v2, small)
	require.NoError(t, err)
	assert.Positive(t, ch.TextEdited)
	assert.Positive(t, ch.LargePatched)
	assert.Positive(t, ch.Added)
	assert.Positive(t, ch.Deleted)

	var diff *DiffError
	require.ErrorAs(t, Equal(v1, v2), &diff)
	// Each change is one difference, and the new directory text/new one more.
	assert.Equal(t, ch.TextEdited+ch.LargePatched+ch.Added+ch.Deleted+1, diff.Count)
}

func TestEqualFindsTruncation(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(a, "f"), []byte("abcdef"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(b, "f"), []byte("abc"), 0o644))
	var diff *DiffError
	require.ErrorAs(t, Equal(a, b), &diff)
	assert.Equal(t, 1, diff.Count)
	assert.True(t, errors.Is(sameContent(filepath.Join(a, "f"), filepath.Join(b, "f")), errDiffer))
}
