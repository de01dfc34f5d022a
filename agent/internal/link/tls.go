// Package link is the agent's side of the agent link: it enrols the agent with a join
// token, then keeps one mutual-TLS connection to the controller alive, sending heartbeats
// and running the jobs the controller sends.
package link

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/grim-reaper/grim/agent/internal/identity"
	"github.com/grim-reaper/grim/protocol/jointoken"
)

// The controller's certificate is checked against its CA, which the agent pins, and not
// against a host name: agents reach controllers by whatever address the network gives.
// That is why InsecureSkipVerify is set below; VerifyPeerCertificate does the real check.

// enrollTLS trusts only a controller whose chain contains the CA that the token pins.
func enrollTLS(tok jointoken.Token) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, //nolint:gosec // verified against the pinned CA below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				if !tok.PinMatches(der) {
					continue
				}
				ca, err := x509.ParseCertificate(der)
				if err != nil {
					return fmt.Errorf("parse pinned ca: %w", err)
				}
				return verifyServer(raw, ca)
			}
			return errors.New("controller certificate does not chain to the pinned CA")
		},
	}
}

// sessionTLS presents the agent's certificate and trusts only the CA saved at enrolment.
func sessionTLS(id *identity.Identity) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{id.Certificate},
		InsecureSkipVerify: true, //nolint:gosec // verified against the enrolment CA below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyServer(raw, id.CA)
		},
	}
}

func verifyServer(raw [][]byte, ca *x509.Certificate) error {
	if len(raw) == 0 {
		return errors.New("controller sent no certificate")
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return fmt.Errorf("parse controller certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:     roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verify controller certificate: %w", err)
	}
	return nil
}
