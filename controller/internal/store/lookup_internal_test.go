package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPaddedSize(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {256, 256}, {257, 512}, {512, 512},
	} {
		assert.Equal(t, tc.want, paddedSize(tc.n), "n=%d", tc.n)
	}
}

func TestPresentQuery(t *testing.T) {
	assert.Equal(t, "SELECT id FROM blobs WHERE account_id = ? AND id IN (?, ?)",
		presentQuery(DialectSQLite, 2))
	assert.Equal(t, "SELECT id FROM blobs WHERE account_id = $1 AND id IN ($2, $3, $4)",
		presentQuery(DialectPostgres, 3))
}
