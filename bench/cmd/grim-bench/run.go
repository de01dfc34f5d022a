package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/grim-reaper/grim/bench/grim"
	"github.com/grim-reaper/grim/bench/report"
	"github.com/grim-reaper/grim/bench/restic"
	"github.com/grim-reaper/grim/bench/suite"
)

// maxLogLines bounds how much of a product log the summary shows.
const maxLogLines = 40

// run makes a work directory, starts the tools, runs the suite, and reports. It always
// stops the tools and removes the work directory, unless asked to keep it.
func (o *options) run(ctx context.Context, out io.Writer) (err error) {
	spec, err := o.spec()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.workDir, "grim-bench-")
	if err != nil {
		return fmt.Errorf("create work directory: %w", err)
	}
	defer o.cleanup(out, work)

	cluster, tools, err := o.startTools(ctx, out, work)
	if cluster != nil {
		defer func() { err = errors.Join(err, cluster.Close()) }()
	}
	if err != nil {
		return err
	}

	host := report.CurrentHost()
	res, runErr := suite.Run(ctx, suite.Config{Spec: spec, WorkDir: work, Tools: tools,
		DropCaches: o.dropCaches, Log: out})
	doc := report.NewDocument(res, host)
	if runErr != nil {
		doc.Error = runErr.Error()
	}
	report.Print(out, doc)
	printLogs(out, cluster)
	if err := doc.WriteJSON(o.out); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(out, "\nResults written to %s\n", o.out)
	return runErr
}

// startTools starts Grim Reaper and, when it was found, prepares restic. The cluster is
// returned for closing even when starting failed half way.
func (o *options) startTools(ctx context.Context, out io.Writer, work string) (
	*grim.Cluster, []suite.Tool, error) {
	bin, err := filepath.Abs(o.binDir)
	if err != nil {
		return nil, nil, err
	}
	if err := os.Mkdir(filepath.Join(work, "grim"), 0o700); err != nil {
		return nil, nil, err
	}
	cluster, err := grim.Start(ctx, bin, filepath.Join(work, "grim"), o.transport)
	if err != nil {
		return cluster, nil, fmt.Errorf("start grim: %w", err)
	}
	tools := []suite.Tool{cluster}
	if o.restic == "" {
		fmt.Fprintln(out, "restic not found: measuring Grim Reaper alone")
		return cluster, tools, nil
	}
	if err := os.Mkdir(filepath.Join(work, "restic"), 0o700); err != nil {
		return cluster, nil, err
	}
	repo, err := restic.Init(ctx, o.restic, filepath.Join(work, "restic"))
	if err != nil {
		return cluster, nil, fmt.Errorf("start restic: %w", err)
	}
	return cluster, append(tools, repo), nil
}

// cleanup removes the work directory, or says where it was kept.
func (o *options) cleanup(out io.Writer, work string) {
	if o.keep {
		fmt.Fprintf(out, "Work directory kept: %s\n", work)
		return
	}
	if err := os.RemoveAll(work); err != nil {
		fmt.Fprintf(out, "remove work directory: %v\n", err)
	}
}

// printLogs shows what the controller and the agent logged at warn level and above, so
// a product problem met during the run is visible with the numbers.
func printLogs(out io.Writer, c *grim.Cluster) {
	if c == nil {
		return
	}
	for _, log := range c.Logs() {
		raw, err := os.ReadFile(log.Path)
		text := strings.TrimRight(string(raw), "\n")
		if err != nil || text == "" {
			continue
		}
		lines := strings.Split(text, "\n")
		fmt.Fprintf(out, "\n%s logged %d lines at warn level or above", log.Process, len(lines))
		if len(lines) > maxLogLines {
			fmt.Fprintf(out, "; the last %d:", maxLogLines)
			lines = lines[len(lines)-maxLogLines:]
		}
		fmt.Fprintf(out, "\n  %s\n", strings.Join(lines, "\n  "))
	}
}
