package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

func yamuxConfig(log *slog.Logger) *yamux.Config {
	c := yamux.DefaultConfig()
	c.AcceptBacklog = 1024 // as many waiting streams as QUIC allows
	c.EnableKeepAlive = true
	c.KeepAliveInterval = 15 * time.Second
	c.ConnectionWriteTimeout = 30 * time.Second
	c.MaxStreamWindowSize = streamWindow
	// yamux resets a half-closed stream after this timeout; QUIC never does, and a job's
	// stream may stay half-closed for hours, so it is off.
	c.StreamCloseTimeout = 0
	c.LogOutput = nil
	c.Logger = yamuxLogger{log: log}
	return c
}

// dialTCP connects over TLS on TCP, waits for the listener's ready signal and starts
// yamux as its client.
func dialTCP(ctx context.Context, addr string, conf *tls.Config, log *slog.Logger) (Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, withServerName(conf, addr))
	if err := awaitReadyTCP(ctx, tc); err != nil {
		_ = raw.Close()
		return nil, markTCP(err)
	}
	c, err := newTCPConn(tc, true, log)
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	return c, nil
}

// withServerName names the host of addr as the server, as tls.Dial does, unless conf
// names one.
func withServerName(conf *tls.Config, addr string) *tls.Config {
	if conf.ServerName != "" {
		return conf
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return conf
	}
	c := conf.Clone()
	c.ServerName = host
	return c
}

// awaitReadyTCP completes the handshake and reads the byte the listener sends once it
// has accepted our certificate. With TLS 1.3 the client finishes its handshake before
// the server checks the client's certificate, so only this byte proves we got in.
func awaitReadyTCP(ctx context.Context, tc *tls.Conn) error {
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	if err := checkALPN(tc.ConnectionState()); err != nil {
		return err
	}
	var b [1]byte
	err := readWithContext(ctx, tc.SetReadDeadline, func() error {
		_, err := tc.Read(b[:])
		return err
	})
	if err != nil {
		return fmt.Errorf("read ready signal: %w", err)
	}
	if b[0] != readyByte {
		return fmt.Errorf("read ready signal: got %x", b[0])
	}
	return nil
}

// sendReadyTCP is the listener's half of awaitReadyTCP.
func sendReadyTCP(ctx context.Context, tc *tls.Conn) error {
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("tls handshake: %w", err)
	}
	if err := checkALPN(tc.ConnectionState()); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = tc.SetWriteDeadline(d)
	}
	if _, err := tc.Write([]byte{readyByte}); err != nil {
		return fmt.Errorf("send ready signal: %w", err)
	}
	return tc.SetWriteDeadline(time.Time{})
}

// markTCP marks TLS failures with ErrAuth: anything the handshake or the ready signal
// reports that is not a network error.
func markTCP(err error) error {
	if errors.Is(err, ErrAuth) || isNetworkFailure(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrAuth, err)
}

// tcpConn is a Conn over a yamux session on a TLS connection.
type tcpConn struct {
	sess   *yamux.Session
	state  tls.ConnectionState
	remote net.Addr
}

func newTCPConn(tc *tls.Conn, client bool, log *slog.Logger) (*tcpConn, error) {
	start := yamux.Server
	if client {
		start = yamux.Client
	}
	sess, err := start(tc, yamuxConfig(log))
	if err != nil {
		return nil, fmt.Errorf("start yamux: %w", err)
	}
	return &tcpConn{sess: sess, state: tc.ConnectionState(), remote: tc.RemoteAddr()}, nil
}

// OpenStream does not block on ctx: yamux opens streams at once unless a thousand are
// still waiting for the peer to accept them.
func (c *tcpConn) OpenStream(ctx context.Context) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	s, err := c.sess.OpenStream()
	if err != nil {
		return nil, c.connErr("open stream", err)
	}
	return &tcpStream{s: s}, nil
}

func (c *tcpConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := c.sess.AcceptStreamWithContext(ctx)
	if err != nil {
		return nil, c.connErr("accept stream", err)
	}
	return &tcpStream{s: s}, nil
}

func (c *tcpConn) ConnectionState() tls.ConnectionState { return c.state }
func (c *tcpConn) RemoteAddr() net.Addr                 { return c.remote }
func (c *tcpConn) Transport() string                    { return string(ModeTCP) }
func (c *tcpConn) Done() <-chan struct{}                { return c.sess.CloseChan() }
func (c *tcpConn) Close() error                         { return c.sess.Close() }

// connErr wraps err so that it matches net.ErrClosed once the session is gone; yamux
// reports that as whatever ended the session, io.EOF included.
func (c *tcpConn) connErr(op string, err error) error {
	if c.sess.IsClosed() {
		return fmt.Errorf("%s: %w (%v)", op, net.ErrClosed, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// tcpStream is a Stream over one yamux stream.
//
// yamux has no way to abort a stream, so Reset fails our side at once and half-closes
// it: the peer reads io.EOF rather than an error, and what it still sends is buffered,
// up to the stream window, until it closes its side too.
type tcpStream struct {
	s     *yamux.Stream
	reset atomic.Bool
}

func (s *tcpStream) Read(p []byte) (int, error) {
	if s.reset.Load() {
		return 0, ErrStreamReset
	}
	n, err := s.s.Read(p)
	if s.reset.Load() {
		return 0, ErrStreamReset
	}
	return n, yamuxStreamErr(err)
}

func (s *tcpStream) Write(p []byte) (int, error) {
	if s.reset.Load() {
		return 0, ErrStreamReset
	}
	n, err := s.s.Write(p)
	if err != nil && s.reset.Load() {
		return n, ErrStreamReset
	}
	return n, yamuxStreamErr(err)
}

func (s *tcpStream) Close() error                  { return yamuxStreamErr(s.s.Close()) }
func (s *tcpStream) SetDeadline(t time.Time) error { return s.s.SetDeadline(t) }

func (s *tcpStream) Reset() {
	if s.reset.Swap(true) {
		return
	}
	_ = s.s.SetDeadline(time.Now()) // wakes a Read or Write in progress
	_ = s.s.Close()
}

// yamuxStreamErr maps yamux errors to the ones the Stream interface promises.
func yamuxStreamErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, yamux.ErrTimeout):
		return os.ErrDeadlineExceeded
	case errors.Is(err, yamux.ErrConnectionReset):
		return fmt.Errorf("%w: %w", ErrStreamReset, err)
	case errors.Is(err, yamux.ErrSessionShutdown), errors.Is(err, yamux.ErrStreamClosed):
		return fmt.Errorf("%w: %w", net.ErrClosed, err)
	}
	return err
}

// yamuxLogger hands yamux's log lines to slog at Debug: they report peers that went
// away and streams that were reset, which the caller sees as errors anyway.
type yamuxLogger struct {
	log *slog.Logger
}

func (y yamuxLogger) Print(v ...any) {
	if y.enabled() {
		y.emit(fmt.Sprint(v...))
	}
}

func (y yamuxLogger) Printf(format string, v ...any) {
	if y.enabled() {
		y.emit(fmt.Sprintf(format, v...))
	}
}

func (y yamuxLogger) Println(v ...any) {
	if y.enabled() {
		y.emit(fmt.Sprintln(v...))
	}
}

func (y yamuxLogger) enabled() bool {
	return y.log.Enabled(context.Background(), slog.LevelDebug)
}

func (y yamuxLogger) emit(s string) {
	y.log.Debug("yamux", "message", strings.TrimSpace(s))
}
