package repo

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/grim-reaper/grim/protocol/blob"
)

func TestAbsence(t *testing.T) {
	x, y, z := blob.ID{1}, blob.ID{2}, blob.ID{3}
	tests := []struct {
		name        string
		setup       func(a *absence)
		id          blob.ID
		stored, kno bool
	}{
		{"never asked", func(*absence) {}, x, false, false},
		{"absent, nothing committed since", func(a *absence) {
			a.noteAbsent([]blob.ID{x, y}, 4)
		}, x, false, true},
		{"absent, then committed", func(a *absence) {
			a.noteAbsent([]blob.ID{x}, 4)
			a.noteCommitted([]blob.ID{z, x}, 5)
		}, x, true, true},
		{"committed before it was found absent", func(a *absence) {
			a.noteCommitted([]blob.ID{x}, 3)
			a.noteAbsent([]blob.ID{x}, 4) // e.g. after a failed commit was rolled back
		}, x, false, true},
		{"commits since then forgotten", func(a *absence) {
			a.noteAbsent([]blob.ID{x}, 1)
			for g := range uint64(maxCommitHistory + 1) {
				a.noteCommitted([]blob.ID{{byte(g), 9}}, g+2)
			}
		}, x, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAbsence()
			tc.setup(&a)
			stored, known := a.stored(tc.id)
			assert.Equal(t, tc.stored, stored, "stored")
			assert.Equal(t, tc.kno, known, "known")
			_, known = a.stored(tc.id)
			assert.False(t, known, "an absence answers one Put only")
		})
	}
}

func TestAbsenceBounded(t *testing.T) {
	a := newAbsence()
	ids := make([]blob.ID, maxAbsent/2+1)
	for i := range ids {
		ids[i] = blob.ID{byte(i), byte(i >> 8), byte(i >> 16), 1}
	}
	a.noteAbsent(ids, 1)
	a.noteAbsent(ids[:maxAbsent/2], 2)
	assert.LessOrEqual(t, len(a.absent), maxAbsent)
	for g := range uint64(3 * maxCommitHistory) {
		a.noteCommitted([]blob.ID{{byte(g), byte(g >> 8), 2}}, g+1)
	}
	assert.Len(t, a.history, maxCommitHistory)
	assert.Len(t, a.committed, maxCommitHistory)
	assert.Equal(t, uint64(2*maxCommitHistory), a.floor)
}
