package dbtest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// LockTable holds an exclusive lock on table in db until release is called, so that a
// dump of db stops and waits at that table: tests use it to act on a dump mid-way.
func (s *Server) LockTable(t testing.TB, db, table string) (release func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := s.client(ctx, db)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lock := fmt.Sprintf("BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n", s.quote(table))
	check := fmt.Sprintf("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "+
		"WHERE c.relname = '%s' AND l.mode = 'AccessExclusiveLock' AND l.granted AND "+
		"l.database = (SELECT oid FROM pg_database WHERE datname = current_database())", table)
	if s.Engine != "postgres" {
		lock = fmt.Sprintf("LOCK TABLES %s WRITE;\n", s.quote(table))
		check = fmt.Sprintf("SHOW OPEN TABLES FROM %s WHERE `Table` = '%s' AND In_use > 0",
			s.quote(db), table)
	}
	if _, err := io.WriteString(in, lock); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		in.Close()
		cancel()
		_ = cmd.Wait()
	}
	t.Cleanup(release)
	s.WaitFor(t, db, check, func(out string) bool { return out != "" && out != "0" })
	return release
}

// WaitFor runs query in db until ok accepts its output, for up to a minute.
func (s *Server) WaitFor(t testing.TB, db, query string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := s.run(context.Background(), db, query)
		out = strings.TrimSpace(out)
		if err == nil && ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %q in %s: last %q, %v", query, db, out, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// KillWaitingDump waits until a dump's connection to db waits for a table lock and
// kills that connection on the server, as a server going away would.
func (s *Server) KillWaitingDump(t testing.TB, db string) {
	t.Helper()
	if s.Engine == "postgres" {
		q := fmt.Sprintf("SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND "+
			"application_name = 'grim-reaper' AND wait_event_type = 'Lock'", db)
		pid := s.WaitFor(t, "", q, func(out string) bool { return out != "" })
		s.Exec(t, "", "SELECT pg_terminate_backend("+strings.Split(pid, "\n")[0]+")")
		return
	}
	q := fmt.Sprintf("SELECT id FROM information_schema.processlist WHERE db = '%s' AND "+
		"state LIKE 'Waiting for table%%'", db)
	id := s.WaitFor(t, "", q, func(out string) bool { return out != "" })
	s.Exec(t, "", "KILL "+strings.Split(id, "\n")[0])
}
