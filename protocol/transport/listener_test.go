package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListenSamePortForBoth(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	_, port, err := net.SplitHostPort(ln.Addr())
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	assert.Positive(t, n)

	_, err = Listen(ln.Addr(), p.server, DefaultListenOptions())
	assert.Error(t, err, "the port is taken")
}

func TestListenOptions(t *testing.T) {
	p := newTestPKI(t)
	_, err := Listen("127.0.0.1:0", p.server, ListenOptions{})
	require.Error(t, err, "no transport")
	_, err = Listen("127.0.0.1:0", nil, DefaultListenOptions())
	require.Error(t, err, "no tls config")

	tests := []struct {
		name   string
		opts   ListenOptions
		serves Mode
		not    Mode
	}{
		{"quic only", ListenOptions{QUIC: true}, ModeQUIC, ModeTCP},
		{"tcp only", ListenOptions{TCP: true}, ModeTCP, ModeQUIC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := startListener(t, p.server, tt.opts)
			client, _ := connect(t, ln, tt.serves, p.client)
			assert.Equal(t, string(tt.serves), client.Transport())

			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			_, err := Dial(ctx, ln.Addr(), p.client, tt.not, DialOptions{})
			assert.Error(t, err)
		})
	}
}

func TestListenerCloseUnblocksAccept(t *testing.T) {
	p := newTestPKI(t)
	ln, err := Listen("127.0.0.1:0", p.server, DefaultListenOptions())
	require.NoError(t, err)

	accepted := make(chan error, 1)
	go func() {
		_, err := ln.Accept(context.Background())
		accepted <- err
	}()
	time.Sleep(20 * time.Millisecond) // let Accept block
	require.NoError(t, ln.Close())
	select {
	case err := <-accepted:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	require.NoError(t, ln.Close(), "Close is idempotent")
	_, err = ln.Accept(context.Background())
	assert.ErrorIs(t, err, net.ErrClosed)
}

func TestConnOutlivesListener(t *testing.T) {
	p := newTestPKI(t)
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			ln := startListener(t, p.server, DefaultListenOptions())
			client, server := connect(t, ln, mode, p.client)
			serveEcho(t, server)
			require.NoError(t, ln.Close())

			got, err := roundTrip(testContext(t), client, []byte("still here"))
			require.NoError(t, err)
			assert.Equal(t, "still here", string(got))

			// The last connection to close frees the port.
			require.NoError(t, server.Close())
			assert.Eventually(t, func() bool { return portFree(ln.Addr()) },
				2*time.Second, 10*time.Millisecond)
		})
	}
}

// portFree reports whether both the UDP and the TCP port of addr can be bound again.
func portFree(addr string) bool {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return false
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return false
	}
	defer uc.Close()
	tl, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	return tl.Close() == nil
}

func TestAutoMode(t *testing.T) {
	p := newTestPKI(t)
	tests := []struct {
		name string
		opts ListenOptions
		want string
	}{
		{"falls back to tcp", ListenOptions{TCP: true}, "tcp"},
		{"prefers quic", DefaultListenOptions(), "quic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := startListener(t, p.server, tt.opts)
			ctx := testContext(t)
			start := time.Now()
			c, err := Dial(ctx, ln.Addr(), p.client, ModeAuto,
				DialOptions{QUICTimeout: 500 * time.Millisecond})
			require.NoError(t, err)
			defer c.Close()
			assert.Equal(t, tt.want, c.Transport())
			assert.Less(t, time.Since(start), 3*time.Second)
		})
	}
}

func TestAutoModeReportsBothFailures(t *testing.T) {
	// A port with nothing behind it, on either transport.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	_, err = Dial(testContext(t), addr, newTestPKI(t).client, ModeAuto,
		DialOptions{QUICTimeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "quic: ")
	assert.Contains(t, err.Error(), "tcp: ")
	assert.NotErrorIs(t, err, ErrAuth)
}

func TestRefusedCertificates(t *testing.T) {
	p := newTestPKI(t)
	log := &syncBuffer{}
	ln := startListener(t, p.server, ListenOptions{QUIC: true, TCP: true,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	tests := []struct {
		name string
		conf *tls.Config
	}{
		{"client from another ca", p.rogue},
		{"server from an unknown ca", p.blind},
	}
	for _, tt := range tests {
		for _, mode := range []Mode{ModeQUIC, ModeTCP, ModeAuto} {
			t.Run(tt.name+"/"+string(mode), func(t *testing.T) {
				_, err := Dial(testContext(t), ln.Addr(), tt.conf, mode, DialOptions{})
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrAuth)
				if mode == ModeAuto {
					assert.NotContains(t, err.Error(), "tcp", "no fallback after a TLS failure")
				}
			})
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := ln.Accept(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "no refused client reaches Accept")
	for _, transport := range []string{"quic", "tcp"} {
		assert.Eventually(t, func() bool {
			return log.contains("handshake failed", "component=transport",
				"transport="+transport, "remote_addr=127.0.0.1:", "error=")
		}, 5*time.Second, 10*time.Millisecond, "a %s failure is logged", transport)
	}
}

func TestStalledHandshakeDoesNotBlockOthers(t *testing.T) {
	p := newTestPKI(t)
	ln := startListener(t, p.server, DefaultListenOptions())
	idle, err := net.Dial("tcp", ln.Addr())
	require.NoError(t, err)
	defer idle.Close()
	_, err = idle.Write([]byte{0x16}) // the first byte of a TLS record, then nothing

	require.NoError(t, err)
	client, _ := connect(t, ln, ModeTCP, p.client)
	assert.Equal(t, "tcp", client.Transport())
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"auto", ModeAuto, false},
		{"quic", ModeQUIC, false},
		{"tcp", ModeTCP, false},
		{"", "", true},
		{"udp", "", true},
		{"QUIC", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMode(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// syncBuffer is a log sink that goroutines may write while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// contains reports whether one line holds all of parts.
func (b *syncBuffer) contains(parts ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for line := range strings.SplitSeq(b.buf.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
