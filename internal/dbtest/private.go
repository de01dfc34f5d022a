package dbtest

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/grim-reaper/grim/internal/testkit"
)

// PrivatePostgres starts a PostgreSQL server of the test's own, which checks passwords
// (scram-sha-256) where the machine's server trusts everyone, and stops it when the test
// ends. Its superuser is postgres with the returned password. Without initdb the test
// is skipped (testkit.Unavailable). Run as root, the server runs as the postgres user, since
// PostgreSQL refuses to run as root.
func PrivatePostgres(t testing.TB) (*Server, string) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		testkit.Unavailable(t, "no initdb installed")
	}
	binDir := filepath.Dir(bins[len(bins)-1])
	cred, uid, gid := serverCredential(t)
	dir, err := os.MkdirTemp("", "grim-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Characters a .pgpass line escapes, and quotes, so the test covers the escaping.
	password := `pw:\'"#` + Name("x")
	pwfile := filepath.Join(dir, "pw")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, pwfile} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(binDir, "initdb"), "-D", data, "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pwfile, "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	port := testkit.FreePort(t)
	srv := exec.Command(filepath.Join(binDir, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off")
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGINT)
		_ = srv.Wait()
	})
	s := &Server{Engine: "postgres", Host: "127.0.0.1", Port: port, User: "postgres",
		password: password}
	deadline := time.Now().Add(30 * time.Second)
	for s.Ping(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("private PostgreSQL did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s, password
}

// serverCredential is who the server runs as: the postgres user when the tests run as
// root, else the tests' own user.
func serverCredential(t testing.TB) (*syscall.Credential, int, int) {
	if os.Geteuid() != 0 {
		return nil, os.Getuid(), os.Getgid()
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		testkit.Unavailable(t, "running as root without a postgres user")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid
}
