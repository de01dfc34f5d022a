package repo

import "github.com/grim-reaper/grim/protocol/blob"

// Bounds of what a writer remembers about absent and recently committed blobs. Past them
// Put falls back to asking the index, which is always correct, only slower.
const (
	maxAbsent        = 256 << 10 // ids the index was asked about and lacked
	maxCommitHistory = 256       // packs whose ids are remembered after their commit
)

// absence lets Put skip asking the index about a blob the index was just asked about.
//
// An agent asks Missing for a batch of chunks and then uploads those the account lacks.
// Missing notes each id it found absent with the writer's generation at the time it
// looked, which is bumped at every pack that leaves pending. When the blob then arrives,
// it can only have become stored since that look through a pack of this writer committed
// after it, so a log of the ids of recent commits answers the question the index would,
// without a query. It is guarded by its writer's mu.
//
// Another controller sharing the database may commit the same new blob in that time. The
// per-Put query had that race too, in a narrower window; either way the blob is then
// stored twice and indexed once (Commit keeps the first location), and the extra copy is
// garbage for collection to reclaim. Nothing is lost.
type absence struct {
	absent    map[blob.ID]uint64 // id → generation when the index lacked it
	committed map[blob.ID]uint64 // id → generation its pack's commit made
	history   []commitRecord     // the commits in committed, oldest first
	floor     uint64             // generation of the newest commit forgotten from history
}

// commitRecord is one pack committed at a generation.
type commitRecord struct {
	gen uint64
	ids []blob.ID
}

func newAbsence() absence {
	return absence{absent: make(map[blob.ID]uint64), committed: make(map[blob.ID]uint64)}
}

// noteAbsent records that the index lacked ids when looked at during generation gen,
// while none of them was pending.
func (a *absence) noteAbsent(ids []blob.ID, gen uint64) {
	if len(a.absent)+len(ids) > maxAbsent {
		// Ids asked about and never uploaded pile up; start afresh rather than grow.
		clear(a.absent)
		if len(ids) > maxAbsent {
			return
		}
	}
	for _, id := range ids {
		a.absent[id] = gen
	}
}

// noteCommitted records the ids of a pack committed to the index; gen is the generation
// its commit made.
func (a *absence) noteCommitted(ids []blob.ID, gen uint64) {
	for _, id := range ids {
		a.committed[id] = gen
	}
	a.history = append(a.history, commitRecord{gen: gen, ids: ids})
	if len(a.history) <= maxCommitHistory {
		return
	}
	old := a.history[0]
	a.history = a.history[1:]
	for _, id := range old.ids {
		if a.committed[id] == old.gen {
			delete(a.committed, id)
		}
	}
	a.floor = old.gen
}

// stored answers, for a blob that is not pending, whether it is in the index: known is
// false when nothing recorded answers it and the index must be asked. The absence noted
// for id is used up either way.
func (a *absence) stored(id blob.ID) (stored, known bool) {
	gen, ok := a.absent[id]
	if !ok {
		return false, false
	}
	delete(a.absent, id)
	return a.committedSince(id, gen)
}

// committedSince answers whether a pack committed after generation gen holds id; known is
// false when commits that old are no longer remembered.
func (a *absence) committedSince(id blob.ID, gen uint64) (stored, known bool) {
	if gen < a.floor {
		return false, false
	}
	c, ok := a.committed[id]
	return ok && c > gen, true
}
