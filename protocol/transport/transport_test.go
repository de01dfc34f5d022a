package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// modes are the transports every test runs over.
var modes = []Mode{ModeQUIC, ModeTCP}

func startListener(t testing.TB, conf *tls.Config, opts ListenOptions) *Listener {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", conf, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// connect dials ln and returns both ends of the new connection.
func connect(t testing.TB, ln *Listener, mode Mode, conf *tls.Config) (client, server Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		c   Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept(ctx)
		accepted <- result{c, err}
	}()
	client, err := Dial(ctx, ln.Addr(), conf, mode, DialOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })

	r := <-accepted
	require.NoError(t, r.err)
	t.Cleanup(func() { _ = r.c.Close() })
	return client, r.c
}

// serveEcho echoes every stream the peer opens on c until the peer half-closes it.
func serveEcho(t *testing.T, c Conn) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = c.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			s, err := c.AcceptStream(context.Background())
			if err != nil {
				return
			}
			wg.Go(func() {
				_, _ = io.Copy(s, s)
				_ = s.Close()
			})
		}
	})
}

// roundTrip sends data on a new stream, half-closes it and returns what comes back.
func roundTrip(ctx context.Context, c Conn, data []byte) ([]byte, error) {
	s, err := c.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	written := make(chan error, 1)
	go func() {
		_, err := s.Write(data)
		written <- errors.Join(err, s.Close())
	}()
	got, err := io.ReadAll(s)
	return got, errors.Join(err, <-written)
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEchoBothWays(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, server := connect(t, ln, mode, p.client)
			assert.Equal(t, string(mode), client.Transport())
			assert.Equal(t, string(mode), server.Transport())
			serveEcho(t, server)
			serveEcho(t, client)
			ctx := testContext(t)

			got, err := roundTrip(ctx, client, []byte("from the agent"))
			require.NoError(t, err)
			assert.Equal(t, "from the agent", string(got))

			got, err = roundTrip(ctx, server, []byte("from the controller"))
			require.NoError(t, err)
			assert.Equal(t, "from the controller", string(got))
		})
	}
}

func TestLargeTransfer(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	data := randomBytes(20<<20, 1)
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, server := connect(t, ln, mode, p.client)
			serveEcho(t, server)

			got, err := roundTrip(testContext(t), client, data)
			require.NoError(t, err)
			require.Len(t, got, len(data))
			assert.Equal(t, sha256.Sum256(data), sha256.Sum256(got))
		})
	}
}

func TestConcurrentStreams(t *testing.T) {
	const streams = 32
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, server := connect(t, ln, mode, p.client)
			serveEcho(t, server)
			ctx := testContext(t)

			errs := make(chan error, streams)
			for i := range streams {
				go func() {
					data := randomBytes(256<<10, uint64(i))
					got, err := roundTrip(ctx, client, data)
					if err == nil && !bytes.Equal(got, data) {
						err = fmt.Errorf("stream %d: echo differs", i)
					}
					errs <- err
				}()
			}
			for range streams {
				assert.NoError(t, <-errs)
			}
		})
	}
}

func TestHalfClose(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, server := connect(t, ln, mode, p.client)
			ctx := testContext(t)

			cs, err := client.OpenStream(ctx)
			require.NoError(t, err)
			_, err = cs.Write([]byte("ping"))
			require.NoError(t, err)
			require.NoError(t, cs.Close())

			ss, err := server.AcceptStream(ctx)
			require.NoError(t, err)
			got, err := io.ReadAll(ss)
			require.NoError(t, err, "the peer reads io.EOF after our Close")
			assert.Equal(t, "ping", string(got))

			_, err = ss.Write([]byte("pong"))
			require.NoError(t, err, "the peer can still write after our Close")
			require.NoError(t, ss.Close())
			got, err = io.ReadAll(cs)
			require.NoError(t, err)
			assert.Equal(t, "pong", string(got))
		})
	}
}

func TestReset(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	// Over TCP the peer of a reset stream reads io.EOF, as yamux cannot abort a stream.
	peerErr := map[Mode]error{ModeQUIC: ErrStreamReset, ModeTCP: io.EOF}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, server := connect(t, ln, mode, p.client)
			ctx := testContext(t)
			cs, err := client.OpenStream(ctx)
			require.NoError(t, err)
			_, err = cs.Write([]byte("x"))
			require.NoError(t, err)
			ss, err := server.AcceptStream(ctx)
			require.NoError(t, err)
			_, err = io.ReadFull(ss, make([]byte, 1))
			require.NoError(t, err)

			blocked := make(chan error, 1)
			go func() {
				_, err := cs.Read(make([]byte, 1))
				blocked <- err
			}()
			time.Sleep(20 * time.Millisecond) // let the Read block
			cs.Reset()
			assert.ErrorIs(t, <-blocked, ErrStreamReset, "a blocked Read returns")
			_, err = cs.Write([]byte("y"))
			assert.ErrorIs(t, err, ErrStreamReset)
			assert.NoError(t, cs.Close(), "Close after Reset is a no-op")

			require.NoError(t, ss.SetDeadline(time.Now().Add(5*time.Second)))
			_, err = io.ReadFull(ss, make([]byte, 1))
			assert.ErrorIs(t, err, peerErr[mode])
		})
	}
}

func TestDeadline(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, _ := connect(t, ln, mode, p.client)
			s, err := client.OpenStream(testContext(t))
			require.NoError(t, err)
			require.NoError(t, s.SetDeadline(time.Now().Add(50*time.Millisecond)))
			_, err = s.Read(make([]byte, 1))
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		})
	}
}

func TestDoneAfterPeerCloses(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	for _, mode := range modes {
		for _, closer := range []string{"client", "server"} {
			t.Run(string(mode)+"/"+closer+" closes", func(t *testing.T) {
				client, server := connect(t, ln, mode, p.client)
				local, peer := client, server
				if closer == "server" {
					local, peer = server, client
				}
				require.NoError(t, local.Close())
				require.NoError(t, local.Close(), "Close is idempotent")
				select {
				case <-peer.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("Done not closed after the peer closed")
				}
				<-local.Done()
				_, err := peer.AcceptStream(context.Background())
				assert.ErrorIs(t, err, net.ErrClosed)
				_, err = local.OpenStream(context.Background())
				assert.ErrorIs(t, err, net.ErrClosed)
			})
		}
	}
}

func TestConnectionState(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			client, server := connect(t, ln, mode, p.client)

			cs := server.ConnectionState()
			require.NotEmpty(t, cs.PeerCertificates)
			assert.Equal(t, "agent-1", cs.PeerCertificates[0].Subject.CommonName)
			assert.Equal(t, ALPN, cs.NegotiatedProtocol)
			assert.Equal(t, uint16(tls.VersionTLS13), cs.Version)

			cs = client.ConnectionState()
			require.NotEmpty(t, cs.PeerCertificates)
			assert.Equal(t, "controller", cs.PeerCertificates[0].Subject.CommonName)
			assert.NotNil(t, client.RemoteAddr())
			assert.NotNil(t, server.RemoteAddr())
		})
	}
	assert.Empty(t, p.client.NextProtos, "the caller's config is not changed")
	assert.Empty(t, p.server.NextProtos, "the caller's config is not changed")
}
