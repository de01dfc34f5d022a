package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strings"
	"sync"

	"github.com/grim-reaper/grim/protocol/blob"
)

// presentLookups runs the index's hottest query, "which of these ids does the account
// have", as prepared statements over database/sql. Every backup asks it for each of its
// chunks; through GORM each call built, parsed and planned a statement with hundreds of
// parameters. Batches are padded to a power of two by repeating their last id, so a
// handful of statements cover every batch size.
type presentLookups struct {
	db      *sql.DB
	dialect string

	mu    sync.Mutex
	stmts map[int]*sql.Stmt // by padded batch size
}

func newPresentLookups(db *sql.DB, dialect string) *presentLookups {
	return &presentLookups{db: db, dialect: dialect, stmts: make(map[int]*sql.Stmt)}
}

// paddedSize is the statement size that serves a batch of n ids, 1 ≤ n ≤ lookupBatch.
func paddedSize(n int) int {
	return min(1<<bits.Len(uint(n-1)), lookupBatch)
}

// present returns which of ids, at most lookupBatch of them, the account's index holds.
func (l *presentLookups) present(ctx context.Context, accountID string, ids []blob.ID) (
	map[blob.ID]struct{}, error) {
	size := paddedSize(len(ids))
	stmt, err := l.stmt(ctx, size)
	if err != nil {
		return nil, err
	}
	args := make([]any, 1+size)
	args[0] = accountID
	for i := range size {
		id := &ids[min(i, len(ids)-1)]
		args[1+i] = id[:]
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[blob.ID]struct{}, len(ids))
	var raw []byte
	for rows.Next() {
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		id, err := blob.IDFromBytes(raw)
		if err != nil {
			return nil, err
		}
		out[id] = struct{}{}
	}
	return out, rows.Err()
}

// stmt returns the prepared statement for batches of size ids, preparing it once.
func (l *presentLookups) stmt(ctx context.Context, size int) (*sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.stmts[size]; ok {
		return s, nil
	}
	s, err := l.db.PrepareContext(ctx, presentQuery(l.dialect, size))
	if err != nil {
		return nil, fmt.Errorf("prepare lookup of %d ids: %w", size, err)
	}
	l.stmts[size] = s
	return s, nil
}

// presentQuery is the lookup statement for size ids in the dialect's placeholders.
func presentQuery(dialect string, size int) string {
	var b strings.Builder
	b.WriteString("SELECT id FROM blobs WHERE account_id = ")
	b.WriteString(placeholder(dialect, 1))
	b.WriteString(" AND id IN (")
	for i := range size {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(placeholder(dialect, i+2))
	}
	b.WriteString(")")
	return b.String()
}

func placeholder(dialect string, n int) string {
	if dialect == DialectPostgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// close releases the prepared statements.
func (l *presentLookups) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first error
	for size, s := range l.stmts {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
		delete(l.stmts, size)
	}
	return first
}
