package dbdump_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/agent/internal/dbdump"
	"github.com/grim-reaper/grim/internal/dbtest"
	"github.com/grim-reaper/grim/protocol"
)

func servers(t *testing.T) map[string]*dbtest.Server {
	return map[string]*dbtest.Server{
		protocol.EnginePostgres: dbtest.Postgres(t),
		protocol.EngineMySQL:    dbtest.MySQL(t),
	}
}

func conn(s *dbtest.Server, db string) protocol.DBConn {
	return protocol.DBConn{Engine: s.Engine, Host: s.Host, Port: s.Port, Database: db,
		Username: s.User}
}

// copyDB dumps src and pipes the dump straight into a restore of dst.
func copyDB(ctx context.Context, cfg dbdump.Config, src, dst protocol.DBConn,
	drop bool) error {
	d, err := dbdump.Start(ctx, cfg, src)
	if err != nil {
		return err
	}
	rerr := dbdump.Restore(ctx, cfg, protocol.DatabaseRestore{Format: d.Format, Conn: dst,
		DropExisting: drop, PreservePermissions: true},
		func(w io.Writer) error { _, err := io.Copy(w, d); return err })
	_, _ = io.Copy(io.Discard, d)
	if err := d.Wait(); err != nil {
		return err
	}
	return rerr
}

func TestDumpRestoreRoundTrip(t *testing.T) {
	cfg := dbdump.Config{Tools: dbdump.Detect(context.Background())}
	for engine, s := range servers(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			src := s.Create(t, "grim_rt")
			s.Fill(t, src, 2000)
			dst := dbtest.Name("grim_rt_dst")
			s.DropAtEnd(t, dst)

			require.NoError(t, copyDB(ctx, cfg, conn(s, src), conn(s, dst), false))
			assert.Equal(t, s.Checksum(t, src), s.Checksum(t, dst))

			// drop_existing empties the target: a table only it had is gone.
			s.Exec(t, dst, "CREATE TABLE stray (id int PRIMARY KEY)")
			require.NoError(t, copyDB(ctx, cfg, conn(s, src), conn(s, dst), true))
			assert.NotContains(t, s.Tables(t, dst), "stray")
			assert.Equal(t, s.Checksum(t, src), s.Checksum(t, dst))

			// Without it, restoring over existing tables fails rather than mixing data.
			err := copyDB(ctx, cfg, conn(s, src), conn(s, dst), false)
			require.Error(t, err)
		})
	}
}

func TestDumpFailures(t *testing.T) {
	cfg := dbdump.Config{Tools: dbdump.Detect(context.Background())}
	for engine, s := range servers(t) {
		t.Run(engine, func(t *testing.T) {
			db := s.Create(t, "grim_fail")
			dump := func(c protocol.DBConn) error { return dumpAll(t, cfg, c) }

			c := conn(s, "grim_no_such_db_x")
			err := dump(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "grim_no_such_db_x")

			user, pw := createUser(t, s, db)
			c = conn(s, db)
			if engine == protocol.EngineMySQL {
				// The local PostgreSQL trusts every connection and ignores passwords;
				// the end-to-end tests check wrong passwords on one that does not.
				c.Username, c.Password = user, pw+"-wrong"
				err = dump(c)
				require.Error(t, err)
				assert.NotContains(t, err.Error(), c.Password)
				assert.Contains(t, err.Error(), "Access denied")
			}

			// The right password, with every character an option file or a .pgpass
			// line treats specially, works.
			c.Password = pw
			require.NoError(t, dump(c))

			_, err = dbdump.Start(context.Background(),
				dbdump.Config{Tools: &protocol.Capabilities{}}, c)
			require.ErrorIs(t, err, dbdump.ErrToolMissing)
		})
	}
}

// createUser makes a user with a password full of special characters who may read db.
func createUser(t *testing.T, s *dbtest.Server, db string) (string, string) {
	user := dbtest.Name("grim_u")
	pw := `p:a"s\s'w#rd;=x` + user[len(user)-6:]
	if s.Engine == protocol.EnginePostgres {
		s.Exec(t, "", "CREATE ROLE "+user+" LOGIN PASSWORD '"+strings.ReplaceAll(pw, "'", "''")+"'")
		t.Cleanup(func() {
			_, _ = s.Query(context.Background(), "", "DROP OWNED BY "+user+"; DROP ROLE "+user)
		})
		s.Exec(t, "", "GRANT CONNECT ON DATABASE "+db+" TO "+user)
		// The server trusts local connections; this test needs a password checked,
		// which only a role listed with another method would get. Trust auth accepts
		// any password, so the wrong-password check is the MySQL one here.
		return user, pw
	}
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)
	s.Exec(t, "", "CREATE USER '"+user+"'@'%' IDENTIFIED BY '"+esc+"'")
	s.Exec(t, "", "CREATE USER '"+user+"'@'localhost' IDENTIFIED BY '"+esc+"'")
	s.Exec(t, "", "GRANT ALL ON `"+db+"`.* TO '"+user+"'@'%', '"+user+"'@'localhost'")
	t.Cleanup(func() {
		_, _ = s.Query(context.Background(), "", "DROP USER IF EXISTS '"+user+"'@'%', '"+
			user+"'@'localhost'")
	})
	return user, pw
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// TestOptionFileRefusesLineBreaks checks that no connection setting can end its line in
// the MySQL option file and add options of its own (plugin-dir would load any library).
// The tool is never started, so its path is never run.
func TestOptionFileRefusesLineBreaks(t *testing.T) {
	cfg := dbdump.Config{TempDir: t.TempDir(), Tools: &protocol.Capabilities{
		Tools: []protocol.Tool{{Name: "mariadb-dump", Path: "/nonexistent/mariadb-dump"}}}}
	base := protocol.DBConn{Engine: protocol.EngineMySQL, Host: "127.0.0.1", Database: "d"}
	tests := map[string]func(c *protocol.DBConn){
		"host":    func(c *protocol.DBConn) { c.Host = "db\nplugin-dir=/tmp" },
		"user":    func(c *protocol.DBConn) { c.Username = "u\rdefault-auth=x" },
		"ssl-key": func(c *protocol.DBConn) { c.SSLKey = "/k\nssl=0" },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			c := base
			change(&c)
			_, err := dbdump.Start(context.Background(), cfg, c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), name+" must not contain line breaks")
			left, _ := os.ReadDir(cfg.TempDir)
			assert.Empty(t, left, "an option file was left behind")
		})
	}
}
