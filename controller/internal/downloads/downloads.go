// Package downloads serves the agent packages a controller was built with, and the
// script that installs one and enrols it, so that hosts without internet access install
// the agent from their controller.
//
// The packages sit in one directory under stable names, one per format and machine:
// grim-agent_amd64.deb, grim-agent_arm64.deb, grim-agent_x86_64.rpm and
// grim-agent_aarch64.rpm. The controller's own package ships them in
// /usr/share/grim/downloads.
package downloads

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ScriptName is the install script's name under /downloads/.
const ScriptName = "install.sh"

// ErrNotFound is returned for a name that is not a file of the site.
var ErrNotFound = errors.New("downloads: no such file")

// File is one package on offer.
type File struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modified_at"`
}

// Site is the /downloads/ tree of one controller. Its zero value serves no packages.
type Site struct {
	// Dir holds the packages; missing means none.
	Dir string
	// PublicURL is the controller's API URL as hosts reach it; empty means the URL each
	// request came to.
	PublicURL string
	// AgentAddr is the agent endpoint's listening address; PublicAgentAddr, when set,
	// is the HOST:PORT hosts reach it at instead.
	AgentAddr, PublicAgentAddr string
}

// List returns the packages in the directory, by name.
func (s *Site) List() ([]File, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) || s.Dir == "" {
		return []File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list downloads: %w", err)
	}
	files := []File{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isPackage(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed while listing
		}
		files = append(files, File{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

func isPackage(name string) bool {
	return strings.HasSuffix(name, ".deb") || strings.HasSuffix(name, ".rpm")
}

// Serve writes the package called name, or returns ErrNotFound. Names with a path
// separator or that are not packages are never looked up.
func (s *Site) Serve(w http.ResponseWriter, r *http.Request, name string) error {
	if s.Dir == "" || name != filepath.Base(name) || !isPackage(name) {
		return ErrNotFound
	}
	f, err := os.Open(filepath.Join(s.Dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("open download: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return ErrNotFound
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, name, info.ModTime(), f)
	return nil
}

// BaseURL is the controller's API URL for a request that came to host.
func (s *Site) BaseURL(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimRight(s.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// AgentEndpoint is the HOST:PORT agents dial, for a request that came to host: the public
// address when set, else the listening address, with an unspecified host (0.0.0.0, ::)
// replaced by the request's host name.
func (s *Site) AgentEndpoint(r *http.Request) string {
	if s.PublicAgentAddr != "" {
		return s.PublicAgentAddr
	}
	host, port, err := net.SplitHostPort(s.AgentAddr)
	if err != nil {
		return s.AgentAddr
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return s.AgentAddr
	}
	reqHost := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		reqHost = h
	}
	return net.JoinHostPort(strings.Trim(reqHost, "[]"), port)
}

// InstallCommand is the shell line that installs the agent from this controller on a
// host and enrols it with token. It holds the token: show it only to its owner.
func (s *Site) InstallCommand(r *http.Request, token string) string {
	return fmt.Sprintf("curl -fsSL %s | sudo sh -s -- --controller %s --token %s",
		shellQuote(s.BaseURL(r)+"/downloads/"+ScriptName), shellQuote(s.AgentEndpoint(r)),
		shellQuote(token))
}

// shellQuote returns v as one word for a POSIX shell; plain words stay as they are.
func shellQuote(v string) string {
	plain := v != "" && strings.IndexFunc(v, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("-_.:/[]@=+,", c))
	}) < 0
	if plain {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
