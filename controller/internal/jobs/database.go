package jobs

import (
	"context"
	"fmt"

	"github.com/grim-reaper/grim/protocol"
)

// StoredConn is a database connection as stored with a job: the password sealed under
// the master key (see keyring.SealSecret), never in the clear.
type StoredConn struct {
	Engine         string `json:"engine"`
	Host           string `json:"host"`
	Port           int    `json:"port"`
	Database       string `json:"database"`
	Username       string `json:"username,omitempty"`
	SealedPassword string `json:"sealed_password,omitempty"`
	SSLMode        string `json:"ssl_mode,omitempty"`
	SSLRootCert    string `json:"ssl_root_cert,omitempty"`
	SSLCert        string `json:"ssl_cert,omitempty"`
	SSLKey         string `json:"ssl_key,omitempty"`
}

// Secrets opens credentials sealed for an account.
type Secrets interface {
	OpenSecret(accountID, sealed string) (string, error)
}

// open returns the connection with its password, for the agent's job only.
func (c *StoredConn) open(s Secrets, accountID string) (protocol.DBConn, error) {
	pw, err := s.OpenSecret(accountID, c.SealedPassword)
	if err != nil {
		return protocol.DBConn{}, fmt.Errorf("database %s: stored password: %w", c.Database, err)
	}
	return protocol.DBConn{
		Engine: c.Engine, Host: c.Host, Port: c.Port, Database: c.Database,
		Username: c.Username, Password: pw, SSLMode: c.SSLMode, SSLRootCert: c.SSLRootCert,
		SSLCert: c.SSLCert, SSLKey: c.SSLKey,
	}, nil
}

// SourceResult is what one source of a completed backup stored, as the backups row keeps
// it in source_results.
type SourceResult struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Root        string `json:"root"`
	Engine      string `json:"engine,omitempty"`
	Format      string `json:"format,omitempty"`
	Bytes       int64  `json:"bytes"`
	ChunksTotal int64  `json:"chunks_total"`
	ChunksNew   int64  `json:"chunks_new"`
	StoredBytes int64  `json:"stored_bytes"`
	ToolVersion string `json:"tool_version,omitempty"`
}

// databaseSources turns the stored database sources into the job's, passwords opened.
func (r *Runner) databaseSources(ctx context.Context, accountID string, sources []Source) (
	[]protocol.DatabaseSource, error) {
	var out []protocol.DatabaseSource
	for _, s := range sources {
		if s.Type != protocol.SourceDatabase || s.Connection == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		conn, err := s.Connection.open(r.keys, accountID)
		if err != nil {
			return nil, err
		}
		out = append(out, protocol.DatabaseSource{Name: s.Name, Conn: conn})
	}
	return out, nil
}
