package protocol

import (
	"log/slog"

	"github.com/grim-reaper/grim/protocol/blob"
)

// Database engines.
const (
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
)

// Dump formats a database snapshot can hold; a restore picks the client by format.
const (
	// FormatPgCustom is pg_dump's custom archive, uncompressed (-Fc -Z0), read by
	// pg_restore.
	FormatPgCustom = "pg_custom"
	// FormatMySQLSQL is the plain SQL of mariadb-dump or mysqldump, read by mariadb or
	// mysql.
	FormatMySQLSQL = "mysql_sql"
)

// Source types of a backup report.
const (
	SourceFilesystem = "filesystem"
	SourceDatabase   = "database"
)

// DBConn says how to reach one database. Password is a secret: it travels only inside the
// agent's mutual-TLS session and never appears in logs (see LogValue).
type DBConn struct {
	Engine   string `json:"engine"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// SSLMode is disable, prefer, require, verify-ca or verify-full, as libpq names
	// them; empty leaves the tool's default.
	SSLMode string `json:"ssl_mode,omitempty"`
	// SSLRootCert, SSLCert and SSLKey are file paths on the agent's host.
	SSLRootCert string `json:"ssl_root_cert,omitempty"`
	SSLCert     string `json:"ssl_cert,omitempty"`
	SSLKey      string `json:"ssl_key,omitempty"`
}

// LogValue keeps the password out of logs.
func (c DBConn) LogValue() slog.Value {
	return slog.GroupValue(slog.String("engine", c.Engine), slog.String("host", c.Host),
		slog.Int("port", c.Port), slog.String("database", c.Database))
}

// DatabaseSource is one database a backup dumps.
type DatabaseSource struct {
	// Name is the source's name in reports: the database name unless the request gave one.
	Name string `json:"name"`
	Conn DBConn `json:"conn"`
}

// SourceReport is what a backup stored for one of its sources.
type SourceReport struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Root is the source's snapshot: for a database, a tree of dump parts; for the
	// filesystem sources, which share one tree, the backup's Root.
	Root        blob.ID `json:"root"`
	Engine      string  `json:"engine,omitempty"`
	Format      string  `json:"format,omitempty"`
	Bytes       int64   `json:"bytes"`
	ChunksTotal int64   `json:"chunks_total"`
	ChunksNew   int64   `json:"chunks_new"`
	StoredBytes int64   `json:"stored_bytes"`
	// ToolVersion is the dump tool's version line.
	ToolVersion string `json:"tool_version,omitempty"`
}

// DatabaseRestore is one database target of a restore: the dump at Root goes into Conn.
type DatabaseRestore struct {
	Root   blob.ID `json:"root"`
	Format string  `json:"format"`
	Conn   DBConn  `json:"conn"`
	// DropExisting empties the target database before the restore.
	DropExisting bool `json:"drop_existing"`
	// PreservePermissions keeps the dump's owners and grants; without it objects belong
	// to the restoring user.
	PreservePermissions bool `json:"preserve_permissions"`
}

// DatabaseRestoreReport is what a restore did for one database target.
type DatabaseRestoreReport struct {
	Database string `json:"database"`
	Bytes    int64  `json:"bytes"`
}

// Capabilities is what an agent can do beyond files: the database tools it found.
type Capabilities struct {
	Tools []Tool `json:"tools,omitempty"`
}

// Tool is one program an agent found on its PATH.
type Tool struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

// Has reports whether the capabilities list a tool of that name.
func (c *Capabilities) Has(name string) bool {
	if c == nil {
		return false
	}
	for _, t := range c.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}
