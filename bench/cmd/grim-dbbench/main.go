// Command grim-dbbench measures database backups with Grim Reaper: for each local
// database server (PostgreSQL on 127.0.0.1:5432, MariaDB or MySQL on 127.0.0.1:3306) it
// backs up a generated database, changes 1% of its rows, backs it up again, and prints
// what each backup stored. `make bench` runs it after the file benchmark.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/grim-reaper/grim/bench/dbbench"
	"github.com/grim-reaper/grim/bench/grim"
	"github.com/grim-reaper/grim/internal/dbtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "grim-dbbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	bin := flag.String("bin", "bin", "directory of the grim binaries")
	customers := flag.Int("customers", 100_000, "customers; the database has 3.2 rows per customer")
	out := flag.String("out", "bench/results/latest-db.json", "where to write the results")
	flag.Parse()

	work, err := os.MkdirTemp("", "grim-dbbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	c, err := grim.Start(ctx, *bin, work, "auto")
	if c != nil {
		defer func() { err = errors.Join(err, c.Close()) }()
	}
	if err != nil {
		return err
	}
	servers := []*dbtest.Server{dbtest.Dial("postgres", "127.0.0.1", 5432, "postgres"),
		dbtest.Dial("mysql", "127.0.0.1", 3306, "root")}
	var results []*dbbench.Result
	for _, s := range servers {
		if err := s.Ping(ctx); err != nil {
			fmt.Printf("%s: no server at %s:%d, skipped\n", s.Engine, s.Host, s.Port)
			continue
		}
		r, err := dbbench.Run(ctx, c, s, *customers, os.Stdout)
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", s.Engine, err, c.LogTails())
		}
		results = append(results, r)
	}
	dbbench.Print(os.Stdout, results)
	raw, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(*out, append(raw, '\n'), 0o644)
}
