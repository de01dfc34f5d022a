// Package gc is garbage collection of the blob store: it removes the blobs that no live
// snapshot references, rewrites packs that are mostly garbage, and deletes the files of
// packs nothing points into, while backups go on running.
//
// A collection runs in three phases (docs/design.md, "Garbage collection", argues why
// no running backup can lose a blob to it):
//
//  1. mark: walk every live snapshot of each account and condemn the indexed blobs none
//     reaches that were indexed before the grace cutoff: move their rows out of the index
//     (store.Collection.Condemn). Missing answers them absent from then on, so no backup
//     is told they exist; reads still find them.
//  2. wait: until every backup that had been handed to an agent before the condemnation
//     ended has ended, since any of them may have been told a condemned blob exists.
//  3. sweep: walk the live snapshots again, put back the condemned blobs one reaches,
//     delete the rest, then mark packs that nothing points into deleted, repack those
//     mostly garbage, and delete the files of packs marked deleted a grace ago.
//
// A collection that stops before its end (an error, a controller that died) leaves only
// condemned rows, which the next collection puts back before it starts afresh.
package gc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/grim-reaper/grim/controller/internal/refs"
	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Defaults of Config.
const (
	DefaultGrace        = time.Hour
	DefaultFileGrace    = 15 * time.Minute
	DefaultOrphanGrace  = 24 * time.Hour
	DefaultRewriteBelow = 0.5
	DefaultPoll         = time.Second
)

// Phases of a collection, recorded in its row.
const (
	PhaseMark  = "mark"
	PhaseWait  = "wait"
	PhaseSweep = "sweep"
)

// page is how many index rows one query reads; condemnBatch how many move at once.
const (
	page         = 2000
	condemnBatch = 500
)

// Config tunes a Collector; zero fields take the defaults.
type Config struct {
	// Grace keeps every blob indexed less than this before the collection began or
	// before the oldest unfinished backup was first started, whichever is earlier. It
	// spares the work of condemning what running backups are writing, and covers clock
	// differences between controllers; correctness does not rest on it.
	Grace time.Duration
	// FileGrace is how long the file of a pack marked deleted stays, so that a read that
	// located a blob in it just before still finds it.
	FileGrace time.Duration
	// OrphanGrace is how old a pack file without a row must be before it is deleted: a
	// younger one may be a pack whose index commit is under way.
	OrphanGrace time.Duration
	// RewriteBelow repacks a pack when the share of its bytes the index points at falls
	// below it.
	RewriteBelow float64
	// Poll is how often the wait phase looks at the backups it waits for.
	Poll time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Grace < 0 {
		c.Grace = 0
	}
	if c.FileGrace < 0 {
		c.FileGrace = 0
	}
	if c.OrphanGrace <= 0 {
		c.OrphanGrace = DefaultOrphanGrace
	}
	if c.RewriteBelow <= 0 {
		c.RewriteBelow = DefaultRewriteBelow
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// DefaultConfig returns the production settings.
func DefaultConfig() Config {
	return Config{Grace: DefaultGrace, FileGrace: DefaultFileGrace,
		OrphanGrace: DefaultOrphanGrace, RewriteBelow: DefaultRewriteBelow, Poll: DefaultPoll}
}

// Repo is the blob store as collection uses it: reading trees, and moving live blobs out
// of packs that are mostly garbage.
type Repo interface {
	refs.Reader
	Repack(ctx context.Context, accountID string, from []string) (moved int64, written int,
		err error)
}

// Keys gives an account's keys, to open its trees.
type Keys interface {
	AccountKeys(ctx context.Context, accountID string) (*blob.Keys, error)
}

// Stats are what one collection did.
type Stats struct {
	Accounts         int      `json:"accounts"`
	Snapshots        int      `json:"snapshots"`
	BlobsCondemned   int64    `json:"blobs_condemned"`
	BlobsResurrected int64    `json:"blobs_resurrected"`
	BlobsDeleted     int64    `json:"blobs_deleted"`
	BytesDeleted     int64    `json:"bytes_deleted"`
	PacksDeleted     int      `json:"packs_deleted"`
	PacksRewritten   int      `json:"packs_rewritten"`
	PacksWritten     int      `json:"packs_written"`
	BlobsMoved       int64    `json:"blobs_moved"`
	FilesDeleted     int      `json:"files_deleted"`
	OrphansDeleted   int      `json:"orphans_deleted"`
	StoredBefore     int64    `json:"stored_bytes_before"`
	StoredAfter      int64    `json:"stored_bytes_after"`
	Skipped          []string `json:"skipped_accounts,omitempty"`
}

// Collector runs garbage collections.
type Collector struct {
	cfg  Config
	st   *store.Store
	repo Repo
	sto  storage.Storage
	keys Keys
	log  *slog.Logger
}

// New returns a collector of the blobs repo stores in sto and indexes in st.
func New(cfg Config, st *store.Store, r Repo, sto storage.Storage, keys Keys,
	log *slog.Logger) *Collector {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{cfg: cfg, st: st, repo: r, sto: sto, keys: keys,
		log: log.With("component", "gc")}
}

// Collect runs the collection run to its end and returns what it did. On an error the
// blobs it condemned are put back before it returns.
func (c *Collector) Collect(ctx context.Context, run *store.GCRun) (st *Stats, err error) {
	st = &Stats{}
	if run.Phase != "" {
		// A collection cut off before it finished: nothing it condemned is deleted yet.
		n, err := c.st.Collection().ResurrectRun(ctx, run.ID)
		if err != nil {
			return st, err
		}
		c.log.Info("collection resumed from the start", "gc_id", run.ID, "restored", n)
	}
	defer func() {
		if err == nil {
			return
		}
		_, rerr := c.st.Collection().ResurrectRun(context.WithoutCancel(ctx), run.ID)
		err = errors.Join(err, rerr)
	}()
	accounts, scope, err := c.accounts(ctx, run)
	if err != nil {
		return st, err
	}
	st.Accounts = len(accounts)
	if st.StoredBefore, err = c.st.Collection().StoredBytes(ctx, scope); err != nil {
		return st, err
	}
	if err := c.mark(ctx, run, accounts, st); err != nil {
		return st, err
	}
	if err := c.wait(ctx, run, scope); err != nil {
		return st, err
	}
	if err := c.setPhase(ctx, run, PhaseSweep, nil); err != nil {
		return st, err
	}
	for _, a := range accounts {
		if err := c.sweep(ctx, run.ID, a, st); err != nil {
			return st, err
		}
	}
	if err := c.deleteFiles(ctx, st); err != nil {
		return st, err
	}
	st.StoredAfter, err = c.st.Collection().StoredBytes(ctx, scope)
	return st, err
}

// accounts lists the accounts the run covers, and the scope to give the store: nil for
// every account.
func (c *Collector) accounts(ctx context.Context, run *store.GCRun) ([]string, []string, error) {
	if run.AccountID != nil {
		one := []string{*run.AccountID}
		return one, one, nil
	}
	all, err := c.st.Collection().Accounts(ctx)
	return all, nil, err
}

// setPhase records the run's phase and, when given, the backups it waits for.
func (c *Collector) setPhase(ctx context.Context, run *store.GCRun, phase string,
	barrier []string) error {
	cols := map[string]any{"phase": phase}
	if barrier != nil {
		raw, err := json.Marshal(barrier)
		if err != nil {
			return fmt.Errorf("encode barrier: %w", err)
		}
		cols["barrier"] = string(raw)
	}
	run.Phase = phase
	return c.st.GCRuns().Update(ctx, run.ID, cols)
}

// mark condemns, in each account, the blobs no live snapshot reaches. An account whose
// trees cannot all be read is skipped: what they reference is unknown.
func (c *Collector) mark(ctx context.Context, run *store.GCRun, accounts []string,
	st *Stats) error {
	if err := c.setPhase(ctx, run, PhaseMark, nil); err != nil {
		return err
	}
	for _, a := range accounts {
		err := c.condemn(ctx, run.ID, a, st)
		if errors.Is(err, refs.ErrUnreadable) {
			c.log.Warn("account skipped: snapshot trees unreadable", "account_id", a, "error", err)
			st.Skipped = append(st.Skipped, a)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// live walks the account's live snapshots and returns every blob they reach.
func (c *Collector) live(ctx context.Context, accountID string) (map[blob.ID]struct{}, int,
	error) {
	snaps, err := c.st.Collection().LiveSnapshots(ctx, accountID)
	if err != nil {
		return nil, 0, err
	}
	if len(snaps) == 0 {
		return map[blob.ID]struct{}{}, 0, nil
	}
	keys, err := c.keys.AccountKeys(ctx, accountID)
	if err != nil {
		return nil, 0, fmt.Errorf("keys of account %s: %w", accountID, err)
	}
	g, err := refs.Walk(ctx, c.repo, keys, accountID, snaps)
	if err != nil {
		return nil, 0, err
	}
	if len(g.Bad) > 0 {
		for id, e := range g.Bad {
			return nil, 0, fmt.Errorf("%w: %d trees, such as %s: %v", refs.ErrUnreadable,
				len(g.Bad), id, e)
		}
	}
	return g.Live(), len(snaps), nil
}

// condemn takes out of the account's index the blobs no live snapshot reaches that were
// indexed before the grace cutoff.
func (c *Collector) condemn(ctx context.Context, gcID, accountID string, st *Stats) error {
	cutoff, err := c.cutoff(ctx, accountID)
	if err != nil {
		return err
	}
	live, _, err := c.live(ctx, accountID)
	if err != nil {
		return err
	}
	var after *blob.ID
	var doomed []blob.ID
	for {
		rows, err := c.st.Collection().BlobPage(ctx, accountID, after, page)
		if err != nil || len(rows) == 0 {
			return errors.Join(err, c.condemnBatch(ctx, gcID, accountID, doomed, st))
		}
		for _, b := range rows {
			if _, ok := live[b.ID]; !ok && b.CreatedAt.Before(cutoff) {
				doomed = append(doomed, b.ID)
			}
		}
		after = &rows[len(rows)-1].ID
		if len(doomed) >= condemnBatch {
			if err := c.condemnBatch(ctx, gcID, accountID, doomed, st); err != nil {
				return err
			}
			doomed = nil
		}
	}
}

func (c *Collector) condemnBatch(ctx context.Context, gcID, accountID string, ids []blob.ID,
	st *Stats) error {
	if len(ids) == 0 {
		return nil
	}
	if err := c.st.Collection().Condemn(ctx, gcID, accountID, ids); err != nil {
		return err
	}
	st.BlobsCondemned += int64(len(ids))
	return nil
}

// cutoff is the grace before the earlier of now and the start of the account's oldest
// unfinished backup.
func (c *Collector) cutoff(ctx context.Context, accountID string) (time.Time, error) {
	at := c.cfg.Now()
	oldest, err := c.st.Collection().OldestUnfinishedStart(ctx, accountID)
	if err != nil {
		return time.Time{}, err
	}
	if oldest != nil && oldest.Before(at) {
		at = *oldest
	}
	return at.Add(-c.cfg.Grace), nil
}

// wait records, after every condemnation has committed, the backups that had been
// handed to an agent and not ended, and waits until all of them have ended. Backups
// handed out later ask an index that no longer holds the condemned blobs.
func (c *Collector) wait(ctx context.Context, run *store.GCRun, scope []string) error {
	barrier, err := c.st.Collection().UnfinishedStarted(ctx, scope)
	if err != nil {
		return err
	}
	if err := c.setPhase(ctx, run, PhaseWait, append([]string{}, barrier...)); err != nil {
		return err
	}
	t := time.NewTicker(c.cfg.Poll)
	defer t.Stop()
	for {
		n, err := c.st.Collection().CountUnfinished(ctx, barrier)
		if err != nil || n == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
