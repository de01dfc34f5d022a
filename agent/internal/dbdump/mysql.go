package dbdump

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/grim-reaper/grim/protocol"
)

// mysqlDump prepares mariadb-dump or mysqldump writing plain SQL in one consistent
// snapshot (--single-transaction) with rows in primary-key order, so that unchanged
// tables give unchanged bytes between runs. Without DROP TABLE statements, a restore into
// a database that already has one of the tables fails instead of replacing it, as
// PostgreSQL restores do; options.drop_existing is the way to replace.
func mysqlDump(ctx context.Context, cfg Config, tool protocol.Tool, c protocol.DBConn) (
	*process, error) {
	file, cleanup, err := mysqlOptionFile(cfg, tool, c)
	if err != nil {
		return nil, err
	}
	args := []string{"--defaults-extra-file=" + file, "--single-transaction", "--quick",
		"--routines", "--triggers", "--events", "--hex-blob", "--skip-dump-date",
		"--order-by-primary", "--no-tablespaces", "--default-character-set=utf8mb4",
		"--skip-add-drop-table"}
	if !isMariaDB(tool) {
		args = append(args, "--set-gtid-purged=OFF")
	}
	args = append(args, c.Database)
	return newProcess(ctx, tool.Path, args, baseEnv(), c.Password, cleanup), nil
}

// mysqlPrepare prepares the client with a script that drops the target when asked and
// creates it when missing.
func mysqlPrepare(ctx context.Context, cfg Config, r protocol.DatabaseRestore) (*process,
	string, error) {
	p, err := mysqlClient(ctx, cfg, r.Conn)
	if err != nil {
		return nil, "", err
	}
	name := mysqlQuoteName(r.Conn.Database)
	script := "CREATE DATABASE IF NOT EXISTS " + name + ";\n"
	if r.DropExisting {
		script = "DROP DATABASE IF EXISTS " + name + ";\n" + script
	}
	return p, script, nil
}

// mysqlRestore prepares the client reading the dump into the target database.
func mysqlRestore(ctx context.Context, cfg Config, r protocol.DatabaseRestore) (*process,
	error) {
	p, err := mysqlClient(ctx, cfg, r.Conn)
	if err != nil {
		return nil, err
	}
	p.cmd.Args = append(p.cmd.Args, "--binary-mode", "--database="+r.Conn.Database)
	return p, nil
}

func mysqlClient(ctx context.Context, cfg Config, c protocol.DBConn) (*process, error) {
	tool, err := cfg.Tool("mariadb", "mysql")
	if err != nil {
		return nil, err
	}
	file, cleanup, err := mysqlOptionFile(cfg, tool, c)
	if err != nil {
		return nil, err
	}
	args := []string{"--defaults-extra-file=" + file, "--default-character-set=utf8mb4",
		"--batch"}
	return newProcess(ctx, tool.Path, args, baseEnv(), c.Password, cleanup), nil
}

// mysqlOptionFile writes the connection settings, password included, to a private
// option file for --defaults-extra-file.
func mysqlOptionFile(cfg Config, tool protocol.Tool, c protocol.DBConn) (string, func(),
	error) {
	if err := CheckPassword(c.Password); err != nil {
		return "", nil, err
	}
	var b strings.Builder
	b.WriteString("[client]\n")
	var bad error
	set := func(k, v string) {
		if strings.ContainsAny(v, "\x00\r\n") {
			// A line break would end the value and start an option of the caller's.
			bad = fmt.Errorf("%s must not contain line breaks or NUL bytes", k)
		}
		if v != "" {
			fmt.Fprintf(&b, "%s=\"%s\"\n", k, optionEscape(v))
		}
	}
	set("host", c.Host)
	if c.Port > 0 {
		set("port", strconv.Itoa(c.Port))
	}
	set("user", c.Username)
	set("password", c.Password)
	set("ssl-ca", c.SSLRootCert)
	set("ssl-cert", c.SSLCert)
	set("ssl-key", c.SSLKey)
	if bad != nil {
		return "", nil, bad
	}
	b.WriteString(mysqlTLS(tool, c.SSLMode))
	return writeSecretFile(cfg.TempDir, "grim-my-*.cnf", b.String())
}

// mysqlTLS maps a libpq-style sslmode to the tool's own options.
func mysqlTLS(tool protocol.Tool, mode string) string {
	if !isMariaDB(tool) {
		m := map[string]string{"disable": "DISABLED", "prefer": "PREFERRED",
			"require": "REQUIRED", "verify-ca": "VERIFY_CA", "verify-full": "VERIFY_IDENTITY"}
		if v, ok := m[mode]; ok {
			return "ssl-mode=" + v + "\n"
		}
		return ""
	}
	switch mode {
	case "disable":
		return "skip-ssl\n"
	case "require", "verify-ca", "verify-full":
		// MariaDB's tools treat a bare "ssl" as "prefer" and go on in the clear when the
		// server offers no TLS; only ssl-verify-server-cert makes TLS a must, and it
		// checks the chain and the host name together. That is stricter than require and
		// verify-ca ask, but never weaker: a server with a self-signed certificate needs
		// ssl_root_cert.
		return "ssl\nssl-verify-server-cert\n"
	}
	return ""
}

// optionEscape escapes a double-quoted value of an option file.
func optionEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`).Replace(s)
}

// mysqlQuoteName quotes an identifier with backticks.
func mysqlQuoteName(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
