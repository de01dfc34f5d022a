package dbdump

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/grim-reaper/grim/protocol"
)

// AppName is the application_name of every PostgreSQL connection the agent's tools
// make, so a DBA can tell them apart in pg_stat_activity.
const AppName = "grim-reaper"

// lockWait is how long pg_dump waits for a table's lock.
const lockWait = "10min"

// pgDump prepares pg_dump writing an uncompressed custom archive: uncompressed so that
// unchanged rows give unchanged bytes, which deduplicate; the store compresses chunks.
// pg_dump always reads one consistent snapshot. A table another session holds locked
// fails the dump after lockWait rather than holding the backup forever.
func pgDump(ctx context.Context, cfg Config, tool protocol.Tool, c protocol.DBConn) (*process,
	error) {
	env, cleanup, err := pgEnv(cfg, c, c.Database)
	if err != nil {
		return nil, err
	}
	args := []string{"--format=custom", "--compress=0", "--no-password",
		"--lock-wait-timeout=" + lockWait}
	return newProcess(ctx, tool.Path, args, env, c.Password, cleanup), nil
}

// pgPrepare prepares psql on the maintenance database with a script that drops the target
// when asked and creates it when missing. The name travels as a psql variable and is
// quoted by the server, so no name can inject SQL.
func pgPrepare(ctx context.Context, cfg Config, r protocol.DatabaseRestore) (*process, string,
	error) {
	tool, err := cfg.Tool("psql")
	if err != nil {
		return nil, "", err
	}
	env, cleanup, err := pgEnv(cfg, r.Conn, "postgres")
	if err != nil {
		return nil, "", err
	}
	var script strings.Builder
	if r.DropExisting {
		script.WriteString("SELECT format('DROP DATABASE IF EXISTS %I', :'db') \\gexec\n")
	}
	script.WriteString("SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS " +
		"(SELECT FROM pg_database WHERE datname = :'db') \\gexec\n")
	args := []string{"--no-password", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
		"--set=db=" + r.Conn.Database, "--file=-"}
	return newProcess(ctx, tool.Path, args, env, r.Conn.Password, cleanup), script.String(), nil
}

// pgRestore prepares pg_restore into the target database in one transaction, so a
// failed restore leaves nothing half-restored.
func pgRestore(ctx context.Context, cfg Config, r protocol.DatabaseRestore) (*process, error) {
	tool, err := cfg.Tool("pg_restore")
	if err != nil {
		return nil, err
	}
	env, cleanup, err := pgEnv(cfg, r.Conn, r.Conn.Database)
	if err != nil {
		return nil, err
	}
	args := []string{"--no-password", "--exit-on-error", "--single-transaction",
		"--dbname=" + pgConninfo("dbname", r.Conn.Database)}
	if !r.PreservePermissions {
		args = append(args, "--no-owner", "--no-privileges")
	}
	return newProcess(ctx, tool.Path, args, env, r.Conn.Password, cleanup), nil
}

// pgEnv is the environment of a PostgreSQL tool connecting to database.
func pgEnv(cfg Config, c protocol.DBConn, database string) ([]string, func(), error) {
	env := append(baseEnv(), "PGDATABASE="+database, "PGAPPNAME="+AppName,
		"PGCONNECT_TIMEOUT=30")
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PGHOST", c.Host)
	if c.Port > 0 {
		add("PGPORT", strconv.Itoa(c.Port))
	}
	add("PGUSER", c.Username)
	add("PGSSLMODE", c.SSLMode)
	add("PGSSLROOTCERT", c.SSLRootCert)
	add("PGSSLCERT", c.SSLCert)
	add("PGSSLKEY", c.SSLKey)
	if c.Password == "" {
		return env, func() {}, nil
	}
	if err := CheckPassword(c.Password); err != nil {
		return nil, nil, err
	}
	path, cleanup, err := writeSecretFile(cfg.TempDir, "grim-pgpass-*",
		"*:*:*:*:"+pgpassEscape(c.Password)+"\n")
	if err != nil {
		return nil, nil, err
	}
	return append(env, "PGPASSFILE="+path), cleanup, nil
}

// pgpassEscape escapes a password field of a .pgpass line.
func pgpassEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// pgConninfo is one key='value' pair of a libpq connection string, so that a database
// name holding an equals sign is not taken for a connection string itself.
func pgConninfo(key, value string) string {
	return fmt.Sprintf("%s='%s'", key, strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value))
}
