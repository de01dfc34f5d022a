package agenthub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/pki"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/transport"
)

// These tests act as agents with the protocol and transport packages directly, on real
// sockets, so they can also behave as no real agent would.

type fixture struct {
	hub     *Hub
	store   *store.Store
	ca      *pki.CA
	account string
	offset  atomic.Int64 // added to the hub's clock, in nanoseconds
}

func newFixture(t *testing.T, quic, tcp bool) *fixture {
	t.Helper()
	f := &fixture{store: storetest.Open(t)}
	ca, err := pki.LoadOrCreate(t.TempDir(), nil)
	require.NoError(t, err)
	f.ca = ca
	ctx := context.Background()
	acct := &store.Account{ID: store.NewID("acct"), Email: "ops@example.com", Name: "Ops",
		Plan: "FREE", Role: "user", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	require.NoError(t, f.store.Accounts().Create(ctx, acct))
	f.account = acct.ID
	f.hub = New(Config{
		Addr: "127.0.0.1:0", QUIC: quic, TCP: tcp, Heartbeat: time.Second, Version: "test",
		Now: func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) },
	}, f.store, ca)
	require.NoError(t, f.hub.Start(ctx))
	t.Cleanup(func() { f.hub.Close() })
	return f
}

func (f *fixture) token(t *testing.T) string {
	t.Helper()
	tok, _, err := f.hub.CreateJoinToken(context.Background(), f.account, time.Hour)
	require.NoError(t, err)
	return tok
}

// serverTLS trusts the fixture's CA without a host name check, as the agent does.
func (f *fixture) clientTLS(cert *tls.Certificate) *tls.Config {
	conf := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, //nolint:gosec // checked below against the test CA
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			leaf, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: f.ca.Pool()})
			return err
		},
	}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return conf
}

func (f *fixture) dial(t *testing.T, mode transport.Mode, cert *tls.Certificate) (transport.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return transport.Dial(ctx, f.hub.Addr(), f.clientTLS(cert), mode, transport.DialOptions{})
}

// roundTrip sends one message on a new stream and decodes one reply.
func roundTrip(t *testing.T, conn transport.Conn, m protocol.Message) (protocol.Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := conn.OpenStream(ctx)
	require.NoError(t, err)
	_ = st.SetDeadline(time.Now().Add(10 * time.Second))
	if err := protocol.NewEncoder(st).Encode(m); err != nil {
		return nil, err
	}
	return protocol.NewDecoder(st).Decode()
}

// enroll redeems a token and returns the certificate the hub signed, with its key.
func (f *fixture) enroll(t *testing.T, mode transport.Mode, token, name string) (
	*tls.Certificate, *protocol.EnrollResponse, error) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	require.NoError(t, err)
	conn, err := f.dial(t, mode, nil)
	require.NoError(t, err)
	defer conn.Close()
	reply, err := roundTrip(t, conn, &protocol.EnrollRequest{Token: token, Name: name, CSR: csr})
	if err != nil {
		return nil, nil, err
	}
	switch m := reply.(type) {
	case *protocol.EnrollResponse:
		return &tls.Certificate{Certificate: [][]byte{m.Certificate}, PrivateKey: key}, m, nil
	case *protocol.Error:
		return nil, nil, errors.New(m.Message)
	default:
		t.Fatalf("unexpected reply %T", reply)
		return nil, nil, nil
	}
}

// testAgent is a connected session that answers jobs like an agent would.
type testAgent struct {
	conn transport.Conn
	ctl  transport.Stream
	ack  *protocol.HelloAck
}

func (f *fixture) connect(t *testing.T, mode transport.Mode, cert *tls.Certificate,
	hello *protocol.Hello) (*testAgent, error) {
	t.Helper()
	conn, err := f.dial(t, mode, cert)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctl, err := conn.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	_ = ctl.SetDeadline(time.Now().Add(10 * time.Second))
	if err := protocol.NewEncoder(ctl).Encode(hello); err != nil {
		return nil, err
	}
	ack, err := protocol.Expect[*protocol.HelloAck](protocol.NewDecoder(ctl))
	if err != nil {
		return nil, err
	}
	_ = ctl.SetDeadline(time.Time{})
	a := &testAgent{conn: conn, ctl: ctl, ack: ack}
	go a.serveJobs()
	return a, nil
}

func (a *testAgent) serveJobs() {
	for {
		st, err := a.conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		go func() {
			defer st.Close()
			job, err := protocol.Expect[*protocol.Job](protocol.NewDecoder(st))
			if err != nil {
				return
			}
			enc := protocol.NewEncoder(st)
			_ = enc.Encode(&protocol.JobProgress{ID: job.ID, Percent: 50})
			_ = enc.Encode(&protocol.JobResult{ID: job.ID, OK: true})
		}()
	}
}

func hello() *protocol.Hello {
	return &protocol.Hello{ProtocolMin: protocol.ProtocolMin, ProtocolMax: protocol.ProtocolMax,
		AgentVersion: "1.2.3", Hostname: "box"}
}

func TestEnrolSessionAndJob(t *testing.T) {
	for _, mode := range []transport.Mode{transport.ModeQUIC, transport.ModeTCP} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t, true, true)
			cert, resp, err := f.enroll(t, mode, f.token(t), "web-1")
			require.NoError(t, err)
			assert.Equal(t, "web-1", resp.AgentName)
			assert.Equal(t, f.ca.Certificate().Raw, resp.CACertificate)

			a, err := f.connect(t, mode, cert, hello())
			require.NoError(t, err)
			assert.Equal(t, resp.AgentID, a.ack.AgentID)
			assert.True(t, f.hub.Online(resp.AgentID))

			var progress []float64
			res, err := f.hub.RunJob(context.Background(), resp.AgentID,
				&protocol.Job{ID: "job_1", Kind: "test"},
				func(p *protocol.JobProgress) { progress = append(progress, p.Percent) })
			require.NoError(t, err)
			assert.True(t, res.OK)
			assert.Equal(t, []float64{50}, progress)

			rtt, err := f.hub.Ping(context.Background(), f.account, resp.AgentID)
			require.NoError(t, err)
			assert.Positive(t, rtt)
			rec, err := f.store.Agents().ByID(context.Background(), f.account, resp.AgentID)
			require.NoError(t, err)
			assert.Equal(t, "online", rec.Status)
			assert.Equal(t, string(mode), rec.Transport)
			assert.Equal(t, "1.2.3", rec.Version)
			require.NotNil(t, rec.RTTMillis)

			a.conn.Close()
			waitFor(t, func() bool { return !f.hub.Online(resp.AgentID) })
			waitFor(t, func() bool {
				rec, err := f.store.Agents().ByID(context.Background(), "", resp.AgentID)
				return err == nil && rec.Status == "offline"
			})
		})
	}
}

func TestJoinTokenRefusals(t *testing.T) {
	f := newFixture(t, true, true)
	used := f.token(t)
	_, _, err := f.enroll(t, transport.ModeQUIC, used, "first")
	require.NoError(t, err)

	expired := f.token(t)
	f.offset.Store(int64(2 * time.Hour))
	defer f.offset.Store(0)
	_, _, errExpired := f.enroll(t, transport.ModeTCP, expired, "late")
	f.offset.Store(0)

	tests := []struct {
		name, token, want string
		err               error
	}{
		{"reused", used, "join token already used", nil},
		{"expired", expired, "join token expired", errExpired},
		{"garbage", "not-a-token", "join token invalid", nil},
		{"unknown id", replaceID(t, used, "jt_nosuchtoken"), "join token invalid", nil},
		{"wrong secret", replaceSecret(t, f.token(t)), "join token invalid", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err
			if err == nil {
				_, _, err = f.enroll(t, transport.ModeTCP, tt.token, "x-"+tt.name)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestConcurrentEnrolmentUsesTokenOnce(t *testing.T) {
	f := newFixture(t, true, true)
	tok := f.token(t)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			mode := transport.ModeQUIC
			if i%2 == 1 {
				mode = transport.ModeTCP
			}
			if _, _, err := f.enroll(t, mode, tok, "racer-"+string(rune('a'+i))); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), ok.Load())
}

func TestForgedCertificateRefused(t *testing.T) {
	f := newFixture(t, true, true)
	_, resp, err := f.enroll(t, transport.ModeTCP, f.token(t), "real")
	require.NoError(t, err)

	// Another CA signs a certificate naming the real agent.
	other, err := pki.LoadOrCreate(t.TempDir(), nil)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	csr, err := x509.CreateCertificateRequest(rand.Reader,
		&x509.CertificateRequest{Subject: pkix.Name{CommonName: resp.AgentID}}, key)
	require.NoError(t, err)
	forged, err := other.SignAgent(csr, resp.AgentID)
	require.NoError(t, err)
	cert := &tls.Certificate{Certificate: [][]byte{forged.Raw}, PrivateKey: key}

	for _, mode := range []transport.Mode{transport.ModeQUIC, transport.ModeTCP} {
		t.Run(string(mode), func(t *testing.T) {
			_, err := f.connect(t, mode, cert, hello())
			require.Error(t, err)
			assert.False(t, f.hub.Online(resp.AgentID))
		})
	}
}

func TestRevokedCertificateRefused(t *testing.T) {
	f := newFixture(t, true, true)
	cert, resp, err := f.enroll(t, transport.ModeQUIC, f.token(t), "gone")
	require.NoError(t, err)
	a, err := f.connect(t, transport.ModeQUIC, cert, hello())
	require.NoError(t, err)

	require.NoError(t, f.hub.Revoke(context.Background(), f.account, resp.AgentID))
	select {
	case <-a.conn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session of a revoked agent stayed open")
	}
	for _, mode := range []transport.Mode{transport.ModeQUIC, transport.ModeTCP} {
		_, err := f.connect(t, mode, cert, hello())
		require.Error(t, err, string(mode))
	}
	assert.ErrorIs(t, f.hub.Revoke(context.Background(), f.account, resp.AgentID), store.ErrNotFound)
}

func TestBadPeersRefused(t *testing.T) {
	f := newFixture(t, true, true)
	cert, _, err := f.enroll(t, transport.ModeTCP, f.token(t), "ok")
	require.NoError(t, err)

	t.Run("hello without certificate", func(t *testing.T) {
		_, err := f.connect(t, transport.ModeTCP, nil, hello())
		require.Error(t, err)
		var re *protocol.RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, protocol.ErrCodeUnauthorized, re.Code)
	})
	t.Run("unsupported version", func(t *testing.T) {
		h := hello()
		h.ProtocolMin, h.ProtocolMax = 90, 99
		_, err := f.connect(t, transport.ModeQUIC, cert, h)
		var re *protocol.RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, protocol.ErrCodeVersion, re.Code)
	})
	t.Run("garbage bytes", func(t *testing.T) {
		conn, err := f.dial(t, transport.ModeTCP, nil)
		require.NoError(t, err)
		defer conn.Close()
		st, err := conn.OpenStream(context.Background())
		require.NoError(t, err)
		_, err = st.Write([]byte("GET / HTTP/1.1\r\n\r\n and more garbage"))
		require.NoError(t, err)
		_ = st.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = protocol.Expect[*protocol.EnrollResponse](protocol.NewDecoder(st))
		require.Error(t, err)
	})
	t.Run("still serving", func(t *testing.T) {
		_, err := f.connect(t, transport.ModeTCP, cert, hello())
		require.NoError(t, err)
	})
}

func TestRunJobOnOfflineAgent(t *testing.T) {
	f := newFixture(t, true, true)
	_, err := f.hub.RunJob(context.Background(), "agent_none", &protocol.Job{ID: "j"}, nil)
	assert.ErrorIs(t, err, store.ErrAgentUnavailable)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
