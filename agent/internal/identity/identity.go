// Package identity keeps an enrolled agent's identity in its state directory: its private
// key, the client certificate the controller signed, the controller's CA certificate, and
// where the controller is.
package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grim-reaper/grim/internal/atomicfile"
)

const (
	keyFile  = "agent.key"
	certFile = "agent.crt"
	caFile   = "ca.crt"
	infoFile = "agent.json"
)

// ErrNotEnrolled means the state directory holds no identity yet.
var ErrNotEnrolled = errors.New("agent is not enrolled")

// Info is the non-secret part of the identity.
type Info struct {
	AgentID    string `json:"agent_id"`
	Name       string `json:"name"`
	Controller string `json:"controller"`
}

// Identity is everything an enrolled agent needs to connect with mutual TLS.
type Identity struct {
	Info
	Certificate tls.Certificate
	CA          *x509.Certificate
}

// NewKey makes the agent's private key and a certificate request for it. The request
// names nothing: the controller decides the identity it certifies.
func NewKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate agent key: %w", err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "grim-agent"}}
	csr, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate request: %w", err)
	}
	return key, csr, nil
}

// Save writes the identity to dir. The key file is mode 0600 and written first, the info
// file last, so a crash part way leaves a directory that Load reports as not enrolled.
func Save(dir string, info Info, key *ecdsa.PrivateKey, certDER, caDER []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal agent key: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		{certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o644},
		{caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644},
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	raw, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode agent info: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, infoFile), append(raw, '\n'), 0o644)
}

// Load reads the identity kept in dir, or returns ErrNotEnrolled.
func Load(dir string) (*Identity, error) {
	raw, err := os.ReadFile(filepath.Join(dir, infoFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("read agent info: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(raw, &id.Info); err != nil {
		return nil, fmt.Errorf("parse agent info: %w", err)
	}
	id.Certificate, err = tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("load agent certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil {
		return nil, fmt.Errorf("read controller ca: %w", err)
	}
	block, _ := pem.Decode(caPEM)
	if block == nil {
		return nil, errors.New("parse controller ca: no PEM block")
	}
	if id.CA, err = x509.ParseCertificate(block.Bytes); err != nil {
		return nil, fmt.Errorf("parse controller ca: %w", err)
	}
	return &id, nil
}
