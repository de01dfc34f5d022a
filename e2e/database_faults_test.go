package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/dbtest"
)

// engines runs fn once per local database server.
func engines(t *testing.T, fn func(t *testing.T, s *dbtest.Server)) {
	for _, server := range []func(testing.TB) *dbtest.Server{dbtest.Postgres, dbtest.MySQL} {
		s := server(t)
		t.Run(s.Engine, func(t *testing.T) { fn(t, s) })
	}
}

// TestDatabaseBackupFailures checks that a dump that cannot start or is cut off fails
// the backup at once with the tool's own message, and that the store stays usable: the
// same database then backs up and restores.
func TestDatabaseBackupFailures(t *testing.T) {
	engines(t, func(t *testing.T, s *dbtest.Server) {
		c := startController(t, controllerOptions{})
		startAgent(t, c, "db", c.joinToken(t), "")
		c.waitOnline(t, "db", "")
		db := s.Create(t, "grim_fault")
		s.Fill(t, db, 5000)

		t.Run("missing database", func(t *testing.T) {
			b := c.backupDB(t, "db", dbSource(s, "grim_no_such_database"))
			require.Equal(t, "failed", b["status"])
			t.Logf("error: %v", b["error"])
			assert.Contains(t, b["error"], "grim_no_such_database")
			assert.Equal(t, "failed", b["sources"].([]any)[0].(map[string]any)["status"])
		})

		t.Run("connection killed mid-dump", func(t *testing.T) {
			release := s.LockTable(t, db, "orders")
			id := c.createJob(t, "/api/backup/create", map[string]any{"agent": "db",
				"sources": []any{dbSource(s, db)}})
			s.KillWaitingDump(t, db)
			b := c.waitJob(t, "backup", id, time.Minute)
			release()
			require.Equal(t, "failed", b["status"])
			msg, _ := b["error"].(string)
			t.Logf("error: %s", msg)
			assert.Contains(t, msg, db)
			assert.Regexp(t, `(?i)terminat|lost connection|server closed|gone away`, msg)
		})

		t.Run("store still consistent", func(t *testing.T) {
			b := c.backupDB(t, "db", dbSource(s, db))
			require.Equal(t, "completed", b["status"], "%v", b["error"])
			dst := dbtest.Name("grim_fault_dst")
			s.DropAtEnd(t, dst)
			r := c.restoreDB(t, b["id"].(string), s, dst, false)
			require.Equal(t, "completed", r["status"], "%v", r["error"])
			assert.Equal(t, s.Checksum(t, db), s.Checksum(t, dst))
			checkPacks(t, c)
		})
	})
}

// TestDatabaseToolMissing runs an agent whose PATH has no database tools: it reports
// none, and a database backup asked of it is refused at once, naming the tool.
func TestDatabaseToolMissing(t *testing.T) {
	s := dbtest.Postgres(t)
	c := startController(t, controllerOptions{})
	startAgent(t, c, "full", c.joinToken(t), "")
	c.waitOnline(t, "full", "")
	startAgentEnv(t, c, "bare", []string{"PATH=" + t.TempDir()})

	waitFor(t, 10*time.Second, "capabilities reported", func() bool {
		agents := c.agents(t)
		_, full := agents["full"]["capabilities"]
		_, bare := agents["bare"]["capabilities"]
		return full && bare
	})
	agents := c.agents(t)
	tools := map[string]string{}
	for _, raw := range agents["full"]["capabilities"].(map[string]any)["tools"].([]any) {
		tool := raw.(map[string]any)
		tools[tool["name"].(string)] = tool["version"].(string)
	}
	assert.Contains(t, tools["pg_dump"], "PostgreSQL")
	assert.Contains(t, tools, "pg_restore")
	assert.Contains(t, tools, "mariadb-dump")
	bare, _ := agents["bare"]["capabilities"].(map[string]any)
	assert.Empty(t, bare["tools"])

	status, reply := c.call(t, "POST", "/api/backup/create", c.adminKey, map[string]any{
		"agent": "bare", "sources": []any{dbSource(s, "postgres")}})
	require.Equal(t, http.StatusBadRequest, status, "%v", reply)
	e := reply["error"].(map[string]any)
	assert.Equal(t, "sources[0].engine", e["details"].(map[string]any)["field"])
	assert.Contains(t, e["message"], "pg_dump")
}

// TestDatabasePasswordNeverShown backs up and restores with password-protected users,
// on MariaDB and on a PostgreSQL server of the test's own that checks passwords, and looks
// for the password in every process's argument list while the dump runs, in every reply
// and in both programs' logs. A wrong password fails with the server's message.
func TestDatabasePasswordNeverShown(t *testing.T) {
	t.Run("mysql", func(t *testing.T) {
		s := dbtest.MySQL(t)
		db := s.Create(t, "grim_secret")
		user := dbtest.Name("grim_u")
		pw := "Pw-" + dbtest.Name("x") + `:"#;`
		s.CreateUser(t, user, pw, db)
		grant := func(dst string) {
			s.Exec(t, "", "GRANT ALL ON `"+dst+"`.* TO '"+user+"'@'%', '"+user+"'@'localhost'")
		}
		q := "SELECT id FROM information_schema.processlist WHERE user = '" + user + "'"
		testPasswordNeverShown(t, s, db, user, pw, q, "Access denied", grant)
	})
	t.Run("postgres", func(t *testing.T) {
		s, pw := dbtest.PrivatePostgres(t)
		db := s.Create(t, "grim_secret")
		q := "SELECT pid FROM pg_stat_activity WHERE application_name = 'grim-reaper'"
		testPasswordNeverShown(t, s, db, s.User, pw, q, "password authentication failed",
			func(string) {})
	})
}

func testPasswordNeverShown(t *testing.T, s *dbtest.Server, db, user, pw, dumping,
	denied string, grant func(db string)) {
	c := startController(t, controllerOptions{})
	a := startAgent(t, c, "db", c.joinToken(t), "")
	c.waitOnline(t, "db", "")
	s.Fill(t, db, 1000)
	src := dbSource(s, db)
	conn := src["connection"].(map[string]any)
	conn["username"], conn["password"] = user, pw

	release := s.LockTable(t, db, "orders")
	id := c.createJob(t, "/api/backup/create", map[string]any{"agent": "db",
		"sources": []any{src}})
	s.WaitFor(t, "", dumping, func(out string) bool { return out != "" })
	assert.False(t, cmdlinesContain(pw), "password in a process's arguments")
	release()
	b := c.waitJob(t, "backup", id, time.Minute)
	require.Equal(t, "completed", b["status"], "%v", b["error"])

	conn["password"] = pw + "-wrong"
	bad := c.backupDB(t, "db", src)
	require.Equal(t, "failed", bad["status"])
	t.Logf("error: %v", bad["error"])
	assert.Contains(t, bad["error"], denied)

	dst := dbtest.Name("grim_secret_dst")
	s.DropAtEnd(t, dst)
	grant(dst)
	rid := c.createJob(t, "/api/restore/create", map[string]any{"backup_id": id,
		"targets": []any{map[string]any{"type": "database", "connection": map[string]any{
			"host": s.Host, "port": s.Port, "database": dst, "username": user,
			"password": pw}}}})
	r := c.waitJob(t, "restore", rid, time.Minute)
	require.Equal(t, "completed", r["status"], "%v", r["error"])
	assert.Equal(t, s.Checksum(t, db), s.Checksum(t, dst))

	var replies strings.Builder
	for _, path := range []string{"/api/backup/" + id, "/api/backup/" + bad["id"].(string),
		"/api/backups", "/api/restore/" + rid, "/api/restores", "/api/agents"} {
		_, body := c.call(t, "GET", path, c.adminKey, nil)
		replies.WriteString(toJSON(t, body))
	}
	for name, text := range map[string]string{"replies": replies.String(),
		"controller log": c.logs.String(), "agent log": a.logs.String()} {
		assert.NotContains(t, text, pw, "password in the %s", name)
	}
}
