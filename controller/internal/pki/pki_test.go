package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadOrCreateKeepsTheCA(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreate(dir, nil)
	require.NoError(t, err)
	again, err := LoadOrCreate(dir, nil)
	require.NoError(t, err)
	assert.Equal(t, ca.Fingerprint(), again.Fingerprint())

	st, err := os.Stat(filepath.Join(dir, caKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.True(t, ca.Certificate().IsCA)
}

func TestSignAgentIgnoresRequestedIdentity(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir(), nil)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "agent_someone_else"}, DNSNames: []string{"evil"},
	}, key)
	require.NoError(t, err)

	cert, err := ca.SignAgent(csr, "agent_real")
	require.NoError(t, err)
	assert.Equal(t, "agent_real", cert.Subject.CommonName)
	assert.Empty(t, cert.DNSNames)
	_, err = cert.Verify(x509.VerifyOptions{
		Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	assert.NoError(t, err)
}

func TestSignAgentRejectsBadRequests(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir(), nil)
	require.NoError(t, err)
	_, err = ca.SignAgent([]byte("not a csr"), "agent_x")
	assert.Error(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	require.NoError(t, err)
	csr[len(csr)-3] ^= 0xff // breaks the signature
	_, err = ca.SignAgent(csr, "agent_x")
	assert.Error(t, err)
}

func TestServerCertificateChainsToCA(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir(), nil)
	require.NoError(t, err)
	tc, err := ca.ServerCertificate()
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(tc.Certificate[0])
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	assert.NoError(t, err)
	assert.Equal(t, ca.Fingerprint(), Fingerprint(tc.Certificate[1]))
}

func TestCorruptFilesRefused(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadOrCreate(dir, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, caCertFile), []byte("junk"), 0o644))
	_, err = LoadOrCreate(dir, nil)
	assert.Error(t, err)
}
