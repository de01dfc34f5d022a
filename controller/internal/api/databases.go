package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
)

// Secrets seals credentials given in requests before they are stored.
type Secrets interface {
	SealSecret(accountID, plain string) (string, error)
}

// connectionRequest is a database connection as a request gives it.
type connectionRequest struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Database    string `json:"database"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	SSLMode     string `json:"ssl_mode"`
	SSLRootCert string `json:"ssl_root_cert"`
	SSLCert     string `json:"ssl_cert"`
	SSLKey      string `json:"ssl_key"`
}

// mysqlPort is the port that, without an engine named, means MySQL.
const mysqlPort = 3306

// storedConn checks a connection, fills in the engine, and seals its password. field is
// where the connection stands in the request, for errors. The password is never part of
// an error message.
func (a *API) storedConn(accountID, field, engine string, c *connectionRequest) (
	*jobs.StoredConn, error) {
	if c == nil {
		return nil, validationError(field, "%s is required for a database", field)
	}
	if engine == "" {
		engine = protocol.EnginePostgres
		if c.Port == mysqlPort {
			engine = protocol.EngineMySQL
		}
	}
	for _, t := range []struct {
		name, value string
		maxLen      int
		required    bool
	}{
		{"database", c.Database, 64, true}, {"host", c.Host, 255, false},
		{"username", c.Username, 128, false}, {"ssl_root_cert", c.SSLRootCert, 4096, false},
		{"ssl_cert", c.SSLCert, 4096, false}, {"ssl_key", c.SSLKey, 4096, false},
	} {
		if err := checkConnText(field+"."+t.name, t.value, t.maxLen, t.required); err != nil {
			return nil, err
		}
	}
	if strings.ContainsAny(c.Password, "\x00\r\n") {
		return nil, validationError(field+".password",
			"password must not contain line breaks or NUL bytes")
	}
	sealed := ""
	if c.Password != "" {
		if a.secrets == nil {
			return nil, fmt.Errorf("no secret store configured")
		}
		var err error
		if sealed, err = a.secrets.SealSecret(accountID, c.Password); err != nil {
			return nil, err
		}
	}
	return &jobs.StoredConn{Engine: engine, Host: c.Host, Port: c.Port, Database: c.Database,
		Username: c.Username, SealedPassword: sealed, SSLMode: c.SSLMode,
		SSLRootCert: c.SSLRootCert, SSLCert: c.SSLCert, SSLKey: c.SSLKey}, nil
}

// checkConnText rejects values the tools would misread: control characters (a line break
// would start a new line, and so a new option, in a MySQL option file; a NUL cannot pass
// through the environment), and a leading dash that a tool could take for an option.
func checkConnText(field, v string, maxLen int, required bool) error {
	switch {
	case v == "" && required:
		return validationError(field, "%s is required", field)
	case len(v) > maxLen:
		return validationError(field, "%s must be at most %d bytes", field, maxLen)
	case strings.ContainsFunc(v, unicode.IsControl) || strings.HasPrefix(v, "-"):
		return validationError(field,
			"%s must not contain control characters or start with '-'", field)
	}
	return nil
}

// databaseSource checks one database source of a backup request.
func (a *API) databaseSource(acct *store.Account, field string, s backupSourceRequest,
	seen map[string]bool) (jobs.Source, error) {
	conn, err := a.storedConn(acct.ID, field+".connection", s.Engine, s.Connection)
	if err != nil {
		return jobs.Source{}, err
	}
	name := s.Name
	if name == "" {
		name = conn.Database
	}
	if seen[name] {
		return jobs.Source{}, validationError(field+".name",
			"two database sources are named %q; give each a name", name)
	}
	seen[name] = true
	return jobs.Source{Type: s.Type, Name: name, Connection: conn}, nil
}

// checkAgentTools refuses a job the agent cannot run for want of a database tool. An
// agent that never reported its tools is given the benefit of the doubt; it fails the
// job itself at once if it lacks one.
func checkAgentTools(agent *store.Agent, field, engine string, tools [][]string) error {
	if agent.Capabilities == "" {
		return nil
	}
	var caps protocol.Capabilities
	if err := json.Unmarshal([]byte(agent.Capabilities), &caps); err != nil {
		return nil
	}
	for _, group := range tools {
		found := false
		for _, name := range group {
			found = found || caps.Has(name)
		}
		if !found {
			return validationError(field, "agent %s has no %s for %s databases on its PATH",
				agent.Name, strings.Join(group, " or "), engine)
		}
	}
	return nil
}

// dumpTools and restoreTools name the programs an agent needs per engine; the agent's
// own lists in agent/internal/dbdump say the same.
func dumpTools(engine string) [][]string {
	if engine == protocol.EngineMySQL {
		return [][]string{{"mariadb-dump", "mysqldump"}}
	}
	return [][]string{{"pg_dump"}}
}

func restoreTools(engine string) [][]string {
	if engine == protocol.EngineMySQL {
		return [][]string{{"mariadb", "mysql"}}
	}
	return [][]string{{"pg_restore"}, {"psql"}}
}
