package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// gcRunView is a garbage collection as the API shows it.
type gcRunView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Phase  string `json:"phase"`
	Stats  struct {
		BlobsDeleted   int64 `json:"blobs_deleted"`
		BytesDeleted   int64 `json:"bytes_deleted"`
		PacksDeleted   int   `json:"packs_deleted"`
		PacksRewritten int   `json:"packs_rewritten"`
		StoredBefore   int64 `json:"stored_bytes_before"`
		StoredAfter    int64 `json:"stored_bytes_after"`
	} `json:"stats"`
	Error *string `json:"error"`
}

// checkView is a storage check as the API shows it.
type checkView struct {
	ID              string       `json:"id"`
	Status          string       `json:"status"`
	ReadDataPercent float64      `json:"read_data_percent"`
	Damaged         []damageView `json:"damaged"`
	Stats           struct {
		Snapshots int   `json:"snapshots"`
		Packs     int   `json:"packs"`
		PacksRead int   `json:"packs_read"`
		BytesRead int64 `json:"bytes_read"`
	} `json:"stats"`
	Error       *string `json:"error"`
	CreatedAt   string  `json:"created_at"`
	CompletedAt *string `json:"completed_at"`
}

// damageView is one damaged pack a check found and the backups it affects.
type damageView struct {
	PackID  string   `json:"pack_id"`
	Problem string   `json:"problem"`
	Blobs   int      `json:"blobs"`
	Backups []string `json:"backups"`
}

// damageError is a finished check that found damage; the command exits with 4 for it.
type damageError struct {
	id    string
	packs int
}

func (e *damageError) Error() string {
	return fmt.Sprintf("check %s found damage in %s", e.id, packCount(e.packs))
}

func newStorageCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "storage",
		Short: "Collect garbage and check the stored backups"}
	cmd.AddCommand(newStorageGCCmd(g), newStorageCheckCmd(g), newStorageChecksCmd(g))
	return cmd
}

// storageGCOptions are the flags of `grim storage gc`.
type storageGCOptions struct {
	wait bool
}

func newStorageGCCmd(g *globalOptions) *cobra.Command {
	o := &storageGCOptions{}
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Start a garbage collection: the space of deleted backups comes back",
		Long: "Start a garbage collection of the account (of every account for the admin). " +
			"A collection already waiting is answered instead of a new one. It finishes " +
			"only once the backups running when it began have ended.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	cmd.Flags().BoolVar(&o.wait, "wait", false, "wait for the collection to finish")
	return cmd
}

func (o *storageGCOptions) run(cmd *cobra.Command, g *globalOptions) error {
	raw, err := startRun(cmd, g, gcRuns, nil, o.wait)
	if err != nil {
		return err
	}
	var run gcRunView
	if err := json.Unmarshal(raw, &run); err != nil {
		return fmt.Errorf("decode garbage collection: %w", err)
	}
	if err := showGC(cmd.OutOrStdout(), g, raw, run); err != nil {
		return err
	}
	return runFailed("gc", run.ID, run.Status, run.Error)
}

// runRoutes are where a kind of maintenance run is started and read.
type runRoutes struct {
	start, get, key, kind string
}

var (
	gcRuns    = runRoutes{"/api/storage/gc", "/api/storage/gc/", "gc_run", "gc"}
	checkRuns = runRoutes{"/api/storage/check", "/api/storage/checks/", "check", "check"}
)

// startRun starts a collection or a check and returns it as the reply shows it, once it
// has ended when wait is set.
func startRun(cmd *cobra.Command, g *globalOptions, r runRoutes, body any, wait bool) (
	json.RawMessage, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	var reply map[string]json.RawMessage
	ctx := cmd.Context()
	if err := c.Do(ctx, "POST", r.start, body, &reply); err != nil {
		return nil, err
	}
	if !wait {
		return reply[r.key], nil
	}
	var run struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(reply[r.key], &run); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.kind, err)
	}
	return waitRun(ctx, c, r.get+url.PathEscape(run.ID), r.key, r.kind, run.ID,
		progressOut(cmd, g))
}

func showGC(out io.Writer, g *globalOptions, raw json.RawMessage, run gcRunView) error {
	if g.json {
		return printJSON(out, raw)
	}
	if run.Status != "completed" {
		fmt.Fprintf(out, "gc %s %s\n", run.ID, run.Status)
		return nil
	}
	s := run.Stats
	fmt.Fprintf(out, "gc %s completed: %d blobs deleted (%s), %d packs deleted, %d rewritten\n"+
		"  stored %s before, %s after\n", run.ID, s.BlobsDeleted, humanBytes(s.BytesDeleted),
		s.PacksDeleted, s.PacksRewritten, humanBytes(s.StoredBefore), humanBytes(s.StoredAfter))
	return nil
}

// runFailed is the error of a collection or check that ended failed, nil otherwise.
func runFailed(kind, id, status string, msg *string) error {
	if status != "failed" {
		return nil
	}
	e := &jobError{kind: kind, id: id, status: status}
	if msg != nil {
		e.message = *msg
	}
	return e
}

// storageCheckOptions are the flags of `grim storage check`.
type storageCheckOptions struct {
	readData string
	wait     bool
}

func newStorageCheckCmd(g *globalOptions) *cobra.Command {
	o := &storageCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Start a storage check; with --wait, exit 4 when it finds damage",
		Long: "Start a check of the account's storage (every account's for the admin): " +
			"every pack is there at its size, every backup's trees open and all they " +
			"reference is indexed; --read-data also reads packs and checks their bytes. " +
			"With --wait the damaged packs and the backups they affect are printed, and " +
			"damage makes the command exit with 4.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	cmd.Flags().StringVar(&o.readData, "read-data", "none",
		"packs to read: all, none, or a percentage of them picked at random")
	cmd.Flags().BoolVar(&o.wait, "wait", false, "wait for the check to finish")
	return cmd
}

// parseReadData reads --read-data as the API's read_data: true, false or a number.
func parseReadData(s string) (any, error) {
	switch strings.ToLower(s) {
	case "all":
		return true, nil
	case "none":
		return false, nil
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return nil, fmt.Errorf("--read-data is all, none or a percentage, not %q", s)
	}
	return pct, nil
}

func (o *storageCheckOptions) run(cmd *cobra.Command, g *globalOptions) error {
	readData, err := parseReadData(o.readData)
	if err != nil {
		return err
	}
	body := map[string]any{"read_data": readData}
	raw, err := startRun(cmd, g, checkRuns, body, o.wait)
	if err != nil {
		return err
	}
	var chk checkView
	if err := json.Unmarshal(raw, &chk); err != nil {
		return fmt.Errorf("decode check: %w", err)
	}
	out := cmd.OutOrStdout()
	if g.json {
		err = printJSON(out, raw)
	} else {
		showCheck(out, chk)
	}
	if err != nil {
		return err
	}
	if chk.Status == "completed" && len(chk.Damaged) > 0 {
		return &damageError{id: chk.ID, packs: len(chk.Damaged)}
	}
	return runFailed("check", chk.ID, chk.Status, chk.Error)
}

func showCheck(out io.Writer, chk checkView) {
	if chk.Status != "completed" {
		fmt.Fprintf(out, "check %s %s (reading %g%% of the packs)\n", chk.ID, chk.Status,
			chk.ReadDataPercent)
		return
	}
	s := chk.Stats
	fmt.Fprintf(out, "check %s completed: %d snapshots, %d packs, %d read (%s)\n", chk.ID,
		s.Snapshots, s.Packs, s.PacksRead, humanBytes(s.BytesRead))
	if len(chk.Damaged) == 0 {
		fmt.Fprintln(out, "  no damage found")
		return
	}
	fmt.Fprintf(out, "  DAMAGE in %s:\n", packCount(len(chk.Damaged)))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PACK\tPROBLEM\tBACKUPS AFFECTED")
	for _, d := range chk.Damaged {
		pack, problem := d.PackID, d.Problem
		if pack == "" {
			pack = "(none)"
		}
		if d.Blobs > 0 {
			problem += fmt.Sprintf(" (%d blobs)", d.Blobs)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", pack, problem, orNone(d.Backups))
	}
	_ = tw.Flush()
}

func packCount(n int) string {
	if n == 1 {
		return "1 pack"
	}
	return fmt.Sprintf("%d packs", n)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func newStorageChecksCmd(g *globalOptions) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List storage checks and what they found, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reply struct {
				Checks []json.RawMessage `json:"checks"`
				Total  int               `json:"total"`
			}
			path := "/api/storage/checks?limit=" + strconv.Itoa(limit)
			if err := g.do(cmd.Context(), "GET", path, nil, &reply); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), reply)
			}
			return checkTable(cmd.OutOrStdout(), reply.Checks)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many (at most 100)")
	return cmd
}

func checkTable(out io.Writer, list []json.RawMessage) error {
	checks, err := decodeEach[checkView](list, "check")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tREAD\tDAMAGED\tCREATED\tCOMPLETED")
	for _, chk := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%g%%\t%d\t%s\t%s\n", chk.ID, chk.Status, chk.ReadDataPercent,
			len(chk.Damaged), chk.CreatedAt, orDash(chk.CompletedAt))
	}
	return tw.Flush()
}

// progressOut is where waiting reports changes: standard error, or nowhere with --json.
func progressOut(cmd *cobra.Command, g *globalOptions) io.Writer {
	if g.json {
		return io.Discard
	}
	return cmd.ErrOrStderr()
}
