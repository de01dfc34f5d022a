// Package dbtest gives tests real PostgreSQL and MariaDB databases on the servers of the
// machine (127.0.0.1:5432 as postgres with trust auth, 127.0.0.1:3306 as root without a
// password; GRIM_TEST_PG_PORT and GRIM_TEST_MYSQL_PORT move them), filled with data of
// the types dumps get wrong, and checksums of their contents. It drives the engines'
// own command-line clients, the same programs a user would.
package dbtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grim-reaper/grim/internal/testkit"
)

// Server is one database server the tests use.
type Server struct {
	Engine string // "postgres" or "mysql"
	Host   string
	Port   int
	User   string
	// password, when set, is given to the clients through the environment.
	password string
}

// Postgres returns the local PostgreSQL server. When it does not answer the test skips,
// or fails under GRIM_REQUIRE_SERVICES=1 (testkit.Unavailable).
func Postgres(t testing.TB) *Server {
	t.Helper()
	s := &Server{Engine: "postgres", Host: "127.0.0.1", Port: envPort("GRIM_TEST_PG_PORT", 5432),
		User: "postgres"}
	if _, err := s.run(context.Background(), "postgres", "SELECT 1"); err != nil {
		testkit.Unavailable(t, "no PostgreSQL at %s:%d: %v", s.Host, s.Port, err)
	}
	return s
}

// MySQL returns the local MariaDB or MySQL server. When it does not answer the test
// skips, or fails under GRIM_REQUIRE_SERVICES=1 (testkit.Unavailable).
func MySQL(t testing.TB) *Server {
	t.Helper()
	s := &Server{Engine: "mysql", Host: "127.0.0.1", Port: envPort("GRIM_TEST_MYSQL_PORT", 3306),
		User: "root"}
	if _, err := s.run(context.Background(), "", "SELECT 1"); err != nil {
		testkit.Unavailable(t, "no MySQL at %s:%d: %v", s.Host, s.Port, err)
	}
	return s
}

func envPort(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n > 0 {
		return n
	}
	return def
}

// Name returns a database name no other test uses.
func Name(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// Create makes a new empty database and drops it when the test ends. It returns its name.
func (s *Server) Create(t testing.TB, prefix string) string {
	t.Helper()
	name := Name(prefix)
	s.Exec(t, "", "CREATE DATABASE "+s.quote(name))
	s.DropAtEnd(t, name)
	return name
}

// DropAtEnd drops the database, if it exists, when the test ends.
func (s *Server) DropAtEnd(t testing.TB, name string) {
	t.Cleanup(func() {
		q := "DROP DATABASE IF EXISTS " + s.quote(name)
		if s.Engine == "postgres" {
			q += " WITH (FORCE)"
		}
		if _, err := s.run(context.Background(), "", q); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
}

// Exec runs SQL in db ("" for none) and fails the test on error.
func (s *Server) Exec(t testing.TB, db, sql string) string {
	t.Helper()
	out, err := s.run(context.Background(), db, sql)
	if err != nil {
		t.Fatalf("%s in %q: %v", s.Engine, db, err)
	}
	return strings.TrimSpace(out)
}

// Query runs SQL in db and returns its output, or the error.
func (s *Server) Query(ctx context.Context, db, sql string) (string, error) {
	return s.run(ctx, db, sql)
}

// Quote quotes an identifier for the server's engine.
func (s *Server) Quote(name string) string { return s.quote(name) }

// Dial returns the server of an engine at host:port as user without testing it; Ping
// says whether it answers.
func Dial(engine, host string, port int, user string) *Server {
	return &Server{Engine: engine, Host: host, Port: port, User: user}
}

// Ping reports whether the server answers.
func (s *Server) Ping(ctx context.Context) error {
	_, err := s.run(ctx, "", "SELECT 1")
	return err
}

func (s *Server) quote(name string) string {
	if s.Engine == "postgres" {
		return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// client returns the command that runs a script read from standard input in db.
func (s *Server) client(ctx context.Context, db string) *exec.Cmd {
	if s.Engine == "postgres" {
		if db == "" {
			db = "postgres"
		}
		cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
			"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User, "-d", db)
		if s.password != "" {
			cmd.Env = append(os.Environ(), "PGPASSWORD="+s.password)
		}
		return cmd
	}
	args := []string{"--no-defaults", "-h", s.Host, "-P", strconv.Itoa(s.Port), "-u", s.User,
		"-N", "-B", "--default-character-set=utf8mb4"}
	if db != "" {
		args = append(args, "-D", db)
	}
	return exec.CommandContext(ctx, "mariadb", args...)
}

func (s *Server) run(ctx context.Context, db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := s.client(ctx, db)
	cmd.Stdin = strings.NewReader(sql)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Tables lists the tables of db, sorted.
func (s *Server) Tables(t testing.TB, db string) []string {
	t.Helper()
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = "
	if s.Engine == "postgres" {
		q += "'public' ORDER BY 1"
	} else {
		q += "DATABASE() ORDER BY 1"
	}
	out := s.Exec(t, db, q)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// Checksum hashes every row of every table of db, in primary-key order, as the server
// prints them, so two databases with the same checksum hold the same data row for row.
func (s *Server) Checksum(t testing.TB, db string) string {
	t.Helper()
	h := sha256.New()
	for _, table := range s.Tables(t, db) {
		fmt.Fprintf(h, "table %s\n", table)
		q := fmt.Sprintf("SELECT * FROM %s ORDER BY 1", s.quote(table))
		if s.Engine == "postgres" {
			q = fmt.Sprintf("COPY (%s) TO STDOUT", q)
		}
		cmd := s.client(context.Background(), db)
		cmd.Stdin = strings.NewReader(q)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(h, out); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("checksum %s.%s: %v: %s", db, table, err, errb.String())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CreateUser makes a MySQL user with password who may do anything in db, and drops it
// when the test ends.
func (s *Server) CreateUser(t testing.TB, user, password, db string) {
	t.Helper()
	pw := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password)
	for _, host := range []string{"%", "localhost"} {
		s.Exec(t, "", fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", user, host, pw))
		s.Exec(t, "", fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'%s'", s.quote(db), user, host))
	}
	t.Cleanup(func() {
		_, _ = s.run(context.Background(), "", fmt.Sprintf(
			"DROP USER IF EXISTS '%s'@'%%', '%s'@'localhost'", user, user))
	})
}
