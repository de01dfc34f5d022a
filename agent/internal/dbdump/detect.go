package dbdump

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/grim-reaper/grim/protocol"
)

// Tool names the agent looks for.
var toolNames = []string{"pg_dump", "pg_restore", "psql", "mariadb-dump", "mysqldump",
	"mariadb", "mysql"}

// Detect looks for the database tools on the PATH and asks each for its version. A tool
// that does not answer within a few seconds is left out.
func Detect(ctx context.Context) *protocol.Capabilities {
	caps := &protocol.Capabilities{}
	for _, name := range toolNames {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		v, err := version(ctx, path)
		if err != nil {
			continue
		}
		caps.Tools = append(caps.Tools, protocol.Tool{Name: name, Path: path, Version: v})
	}
	return caps
}

func version(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = baseEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	return strings.TrimSpace(string(line)), nil
}

// isMariaDB reports whether a MySQL-family tool is MariaDB's, whose TLS options differ
// from Oracle MySQL's.
func isMariaDB(t protocol.Tool) bool {
	return strings.HasPrefix(t.Name, "mariadb") || strings.Contains(t.Version, "MariaDB")
}

// DumpTools are the tools that can dump each engine, in order of preference.
func DumpTools(engine string) []string {
	if engine == protocol.EngineMySQL {
		return []string{"mariadb-dump", "mysqldump"}
	}
	return []string{"pg_dump"}
}

// RestoreTools are the tools that can restore each engine's dumps; every group must be
// present, and within a group the first found is used.
func RestoreTools(engine string) [][]string {
	if engine == protocol.EngineMySQL {
		return [][]string{{"mariadb", "mysql"}}
	}
	return [][]string{{"pg_restore"}, {"psql"}}
}
