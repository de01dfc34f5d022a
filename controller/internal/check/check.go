// Package check verifies the blob store: that every pack the index names is in storage
// with its size, that every live snapshot's trees open and every blob they reference is
// indexed, and, for the share of packs asked for, that each pack's bytes hash to its
// name and hold what the index says. Damage is reported per pack with the backups it
// affects, stored with the check and raised as an alert.
package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/grim-reaper/grim/controller/internal/refs"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// AlertDamage is the kind of alert a check raises when it finds damage.
const AlertDamage = "storage_check_damage"

// Problems a check reports beyond those of repo.VerifyPack.
const (
	// ProblemBlobsMissing: blobs that snapshots reference are in no pack the index knows.
	ProblemBlobsMissing = "blobs_missing"
	// ProblemBadTree: a tree in the pack does not open with the account's keys.
	ProblemBadTree = "bad_tree"
)

// Alerter raises alerts to an account's webhooks ("" for the whole system).
type Alerter interface {
	Alert(ctx context.Context, accountID, kind, message string, data map[string]any) error
}

// Repo is the blob store as a check reads it.
type Repo interface {
	refs.Reader
	VerifyPack(ctx context.Context, packID string, size int64, index []store.BlobEntry) (
		string, error)
}

// Keys gives an account's keys, to open its trees.
type Keys interface {
	AccountKeys(ctx context.Context, accountID string) (*blob.Keys, error)
}

// Damage is one damaged pack, or the blobs no pack holds (PackID ""), and the backups
// whose snapshots reach it.
type Damage struct {
	PackID    string   `json:"pack_id"`
	AccountID string   `json:"account_id"`
	Problem   string   `json:"problem"`
	Blobs     int      `json:"blobs,omitempty"`
	Backups   []string `json:"backups"`
}

// Stats are what one check covered.
type Stats struct {
	Accounts  int   `json:"accounts"`
	Snapshots int   `json:"snapshots"`
	Trees     int   `json:"trees"`
	Blobs     int   `json:"blobs"`
	Packs     int   `json:"packs"`
	PacksRead int   `json:"packs_read"`
	BytesRead int64 `json:"bytes_read"`
}

// Checker runs storage checks.
type Checker struct {
	st    *store.Store
	repo  Repo
	sto   storage.Storage
	keys  Keys
	alert Alerter
	log   *slog.Logger
}

// New returns a checker; alert may be nil, and then no alert is raised.
func New(st *store.Store, r Repo, sto storage.Storage, keys Keys, alert Alerter,
	log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Checker{st: st, repo: r, sto: sto, keys: keys, alert: alert,
		log: log.With("component", "check")}
}

// Check runs the check run and returns the damage it found, sorted by account and pack,
// and what it covered. Damage found raises one alert per account it touches.
func (c *Checker) Check(ctx context.Context, run *store.StorageCheck) ([]Damage, *Stats,
	error) {
	st := &Stats{}
	accounts := []string{}
	if run.AccountID != nil {
		accounts = append(accounts, *run.AccountID)
	} else {
		all, err := c.st.Collection().Accounts(ctx)
		if err != nil {
			return nil, st, err
		}
		accounts = all
	}
	var damage []Damage
	for _, a := range accounts {
		d, err := c.account(ctx, a, run.ReadDataPercent, st)
		if err != nil {
			return nil, st, fmt.Errorf("check account %s: %w", a, err)
		}
		damage = append(damage, d...)
	}
	st.Accounts = len(accounts)
	c.raise(ctx, run.ID, damage)
	return damage, st, nil
}

// account checks one account's packs and snapshots.
func (c *Checker) account(ctx context.Context, accountID string, percent float64,
	st *Stats) ([]Damage, error) {
	packs, err := c.st.Packs().Of(ctx, accountID)
	if err != nil {
		return nil, err
	}
	st.Packs += len(packs)
	bad, err := c.checkPacks(ctx, packs, percent, st)
	if err != nil {
		return nil, err
	}
	snaps, err := c.st.Collection().LiveSnapshots(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(snaps) == 0 {
		return report(accountID, bad, 0, nil), nil
	}
	keys, err := c.keys.AccountKeys(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	g, err := refs.Walk(ctx, c.repo, keys, accountID, snaps)
	if err != nil {
		return nil, err
	}
	st.Snapshots += len(snaps)
	st.Trees += len(g.Trees)
	t := &tracer{g: g, bad: bad, memo: make(map[blob.ID][]string)}
	if t.packOf, err = c.locate(ctx, accountID, g, st); err != nil {
		return nil, err
	}
	for id := range g.Bad {
		if p, ok := t.packOf[id]; ok && bad[p] == "" {
			bad[p] = ProblemBadTree
		}
	}
	return report(accountID, bad, t.missingCount(), t.affected()), nil
}

// checkPacks checks that every pack is in storage with its size, and reads percent of
// them whole; it returns the damaged ones with their problem.
func (c *Checker) checkPacks(ctx context.Context, packs []store.Pack, percent float64,
	st *Stats) (map[string]string, error) {
	bad := make(map[string]string)
	for _, p := range packs {
		size, err := c.sto.Size(ctx, repo.PackName(p.ID))
		switch {
		case errors.Is(err, storage.ErrNotExist):
			bad[p.ID] = repo.ProblemMissing
		case err != nil:
			return nil, err
		case size != p.Size:
			bad[p.ID] = repo.ProblemSize
		}
	}
	for _, p := range sample(packs, percent) {
		if bad[p.ID] != "" {
			continue
		}
		index, err := c.st.Packs().Entries(ctx, p.ID, true)
		if err != nil {
			return nil, err
		}
		problem, err := c.repo.VerifyPack(ctx, p.ID, p.Size, index)
		if err != nil {
			return nil, err
		}
		st.PacksRead++
		st.BytesRead += p.Size
		if problem != "" {
			bad[p.ID] = problem
		}
	}
	return bad, nil
}

// sample picks percent of packs, at least one when percent is above zero, at random so
// that checks of part of the data cover all of it over time.
func sample(packs []store.Pack, percent float64) []store.Pack {
	if percent <= 0 || len(packs) == 0 {
		return nil
	}
	if percent >= 100 {
		return packs
	}
	n := int(math.Ceil(float64(len(packs)) * percent / 100))
	out := make([]store.Pack, 0, n)
	for _, i := range rand.Perm(len(packs))[:n] {
		out = append(out, packs[i])
	}
	return out
}

// locate finds the pack of every blob the walk reached.
func (c *Checker) locate(ctx context.Context, accountID string, g *refs.Graph, st *Stats) (
	map[blob.ID]string, error) {
	live := g.Live()
	ids := make([]blob.ID, 0, len(live))
	for id := range live {
		ids = append(ids, id)
	}
	st.Blobs += len(ids)
	locs, err := c.st.Blobs().Locate(ctx, accountID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[blob.ID]string, len(locs))
	for id, l := range locs {
		out[id] = l.PackID
	}
	return out, nil
}

// report turns the damaged packs and missing blobs of one account into Damage entries.
func report(accountID string, bad map[string]string, missing int,
	affected map[string][]string) []Damage {
	packs := make([]string, 0, len(bad))
	for p := range bad {
		packs = append(packs, p)
	}
	sort.Strings(packs)
	var out []Damage
	if missing > 0 {
		out = append(out, Damage{AccountID: accountID, Problem: ProblemBlobsMissing,
			Blobs: missing, Backups: nonNil(affected[""])})
	}
	for _, p := range packs {
		out = append(out, Damage{PackID: p, AccountID: accountID, Problem: bad[p],
			Backups: nonNil(affected[p])})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// raise sends one alert per account with damage; failures are logged, not returned.
func (c *Checker) raise(ctx context.Context, checkID string, damage []Damage) {
	byAccount := map[string][]Damage{}
	var order []string
	for _, d := range damage {
		if byAccount[d.AccountID] == nil {
			order = append(order, d.AccountID)
		}
		byAccount[d.AccountID] = append(byAccount[d.AccountID], d)
	}
	for _, a := range order {
		ds := byAccount[a]
		c.log.Warn("storage damage found", "check_id", checkID, "account_id", a,
			"damaged", len(ds))
		if c.alert == nil {
			continue
		}
		msg := fmt.Sprintf("storage check %s found %d damaged packs or missing blob sets",
			checkID, len(ds))
		data := map[string]any{"check_id": checkID, "damaged": ds, "backups": backupsOf(ds)}
		if err := c.alert.Alert(ctx, a, AlertDamage, msg, data); err != nil {
			c.log.Warn("raise storage alert", "check_id", checkID, "account_id", a,
				"error", err)
		}
	}
}

// backupsOf lists the backups any of ds affects, sorted, once each.
func backupsOf(ds []Damage) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, d := range ds {
		for _, b := range d.Backups {
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	sort.Strings(out)
	return out
}
