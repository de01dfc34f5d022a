package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// QUIC error codes we send. The peer sees them in the close reason of its errors.
const (
	codeClosed  quic.ApplicationErrorCode = 0 // Close was called
	codeRefused quic.ApplicationErrorCode = 1 // the ready signal failed
	codeReset   quic.StreamErrorCode      = 1 // Reset was called
)

func quicConfig(server bool) *quic.Config {
	c := &quic.Config{
		HandshakeIdleTimeout:       handshakeTimeout,
		MaxIdleTimeout:             60 * time.Second,
		KeepAlivePeriod:            15 * time.Second,
		MaxIncomingStreams:         1024,
		MaxStreamReceiveWindow:     streamWindow,
		MaxConnectionReceiveWindow: 4 * streamWindow,
	}
	if server {
		c.MaxIncomingUniStreams = -1 // only the listener opens one, for the ready signal
	}
	return c
}

// dialQUIC connects over QUIC and waits for the listener's ready signal.
func dialQUIC(ctx context.Context, addr string, conf *tls.Config) (Conn, error) {
	qc, err := quic.DialAddr(ctx, addr, conf, quicConfig(false))
	if err != nil {
		return nil, markQUIC(err)
	}
	if err := awaitReadyQUIC(ctx, qc); err != nil {
		_ = qc.CloseWithError(codeRefused, "no ready signal")
		return nil, markQUIC(err)
	}
	return &quicConn{qc: qc}, nil
}

// awaitReadyQUIC reads the one-byte ready signal that the listener sends on a
// unidirectional stream once it has accepted our certificate.
func awaitReadyQUIC(ctx context.Context, qc *quic.Conn) error {
	if err := checkALPN(qc.ConnectionState().TLS); err != nil {
		return err
	}
	s, err := qc.AcceptUniStream(ctx)
	if err != nil {
		return fmt.Errorf("wait for ready signal: %w", err)
	}
	var got []byte
	err = readWithContext(ctx, s.SetReadDeadline, func() error {
		var err error
		got, err = io.ReadAll(io.LimitReader(s, 2))
		return err
	})
	if err != nil {
		return fmt.Errorf("read ready signal: %w", err)
	}
	if !bytes.Equal(got, []byte{readyByte}) {
		return fmt.Errorf("read ready signal: got %x", got)
	}
	return nil
}

// sendReadyQUIC is the listener's half of awaitReadyQUIC.
func sendReadyQUIC(ctx context.Context, qc *quic.Conn) error {
	if err := checkALPN(qc.ConnectionState().TLS); err != nil {
		return err
	}
	s, err := qc.OpenUniStreamSync(ctx)
	if err != nil {
		return fmt.Errorf("open ready stream: %w", err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetWriteDeadline(d)
	}
	if _, err := s.Write([]byte{readyByte}); err != nil {
		return fmt.Errorf("send ready signal: %w", err)
	}
	return s.Close()
}

// markQUIC marks TLS failures with ErrAuth. QUIC reports them, from either side, as
// transport errors with a crypto error code.
func markQUIC(err error) error {
	if errors.Is(err, ErrAuth) {
		return err
	}
	if te, ok := errors.AsType[*quic.TransportError](err); ok && te.ErrorCode.IsCryptoError() {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

// quicConn is a Conn over one QUIC connection.
type quicConn struct {
	qc *quic.Conn
}

func (c *quicConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := c.qc.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	return &quicStream{s: s}, nil
}

func (c *quicConn) AcceptStream(ctx context.Context) (Stream, error) {
	s, err := c.qc.AcceptStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept stream: %w", err)
	}
	return &quicStream{s: s}, nil
}

func (c *quicConn) ConnectionState() tls.ConnectionState { return c.qc.ConnectionState().TLS }
func (c *quicConn) RemoteAddr() net.Addr                 { return c.qc.RemoteAddr() }
func (c *quicConn) Transport() string                    { return string(ModeQUIC) }
func (c *quicConn) Done() <-chan struct{}                { return c.qc.Context().Done() }

func (c *quicConn) Close() error {
	return c.qc.CloseWithError(codeClosed, "closed")
}

// quicStream is a Stream over one bidirectional QUIC stream.
type quicStream struct {
	s     *quic.Stream
	reset atomic.Bool // Close after Reset is a no-op, as over TCP
}

func (s *quicStream) Read(p []byte) (int, error) {
	n, err := s.s.Read(p)
	return n, quicStreamErr(err)
}

func (s *quicStream) Write(p []byte) (int, error) {
	n, err := s.s.Write(p)
	return n, quicStreamErr(err)
}

func (s *quicStream) SetDeadline(t time.Time) error { return s.s.SetDeadline(t) }

func (s *quicStream) Close() error {
	if s.reset.Load() {
		return nil
	}
	return quicStreamErr(s.s.Close())
}

func (s *quicStream) Reset() {
	s.reset.Store(true)
	s.s.CancelRead(codeReset)
	s.s.CancelWrite(codeReset)
}

// quicStreamErr turns a stream cancellation, ours or the peer's, into ErrStreamReset.
// Deadline errors already match os.ErrDeadlineExceeded, connection errors net.ErrClosed.
func quicStreamErr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	if _, ok := errors.AsType[*quic.StreamError](err); ok {
		return fmt.Errorf("%w: %w", ErrStreamReset, err)
	}
	return err
}
