package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadMigrations(t *testing.T) {
	all, err := loadMigrations()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for i, m := range all {
		assert.Equal(t, i+1, m.version, m.name)
	}
}

func TestStatementsSubstitutesTypes(t *testing.T) {
	sql := "-- a comment; with a semicolon\nCREATE TABLE t (a {{timestamp}}, b {{bytes}});\n" +
		"CREATE INDEX t_a ON t (a);\n\n"
	tests := []struct {
		dialect string
		want    []string
	}{
		{
			dialect: DialectPostgres,
			want: []string{
				"CREATE TABLE t (a TIMESTAMPTZ, b BYTEA)", "CREATE INDEX t_a ON t (a)",
			},
		},
		{
			dialect: DialectSQLite,
			want: []string{
				"CREATE TABLE t (a DATETIME, b BLOB)", "CREATE INDEX t_a ON t (a)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			assert.Equal(t, tt.want, statements(sql, tt.dialect))
		})
	}
}

func TestCheckApplied(t *testing.T) {
	tests := []struct {
		name    string
		applied []int
		known   int
		wantErr string
	}{
		{name: "fresh", applied: nil, known: 3},
		{name: "partial", applied: []int{1, 2}, known: 3},
		{name: "complete", applied: []int{1, 2, 3}, known: 3},
		{name: "newer database", applied: []int{1, 2, 3, 4}, known: 3, wantErr: "newer"},
		{name: "gap", applied: []int{1, 3}, known: 3, wantErr: "expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkApplied(tt.applied, tt.known)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
