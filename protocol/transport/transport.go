package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"
)

// ALPN is the TLS application protocol that both transports negotiate.
const ALPN = "grim/1"

const (
	// handshakeTimeout bounds a listener's TLS handshake and ready signal per connection.
	handshakeTimeout = 10 * time.Second

	// readyByte is what a listener sends once it has accepted a client's certificate.
	readyByte = 0x01

	// streamWindow is the most unread data either transport buffers for one stream.
	streamWindow = 16 << 20
)

var (
	// ErrStreamReset reports a stream aborted by Reset, on this side or, over QUIC, on the
	// peer's.
	ErrStreamReset = errors.New("transport: stream reset")

	// ErrAuth reports a TLS handshake that failed for a reason other than the network: a
	// certificate refused by either side, no common TLS version or application protocol,
	// or a peer that does not speak TLS. Retrying will not help.
	ErrAuth = errors.New("transport: tls handshake refused")
)

// Stream is one bidirectional byte stream. Close ends our sending side (half-close);
// Reset aborts both directions.
//
// Read returns io.EOF, unwrapped, once the peer has closed its sending side and all its
// data is read. After a Reset, Read and Write fail with ErrStreamReset; past the
// deadline, with os.ErrDeadlineExceeded. One goroutine may read while another writes,
// but two must not read, or write, at once.
type Stream interface {
	io.Reader
	io.Writer
	Close() error
	Reset()
	SetDeadline(time.Time) error
}

// Conn is one authenticated connection carrying many streams.
//
// Close is abrupt: data the peer has not yet received may be lost, so a side that wants
// its last message delivered half-closes the stream and waits for the peer to finish
// before it closes the connection. Operations on a closed connection fail with an error
// that matches net.ErrClosed.
type Conn interface {
	// OpenStream opens a new stream. Over QUIC the peer's AcceptStream sees it only once
	// data arrives on it, so the opener writes first.
	OpenStream(ctx context.Context) (Stream, error)
	// AcceptStream waits for the next stream the peer opened. Call it in a loop: a peer
	// that waits too long for its streams to be taken gives up on the connection.
	AcceptStream(ctx context.Context) (Stream, error)
	// ConnectionState reports the TLS state, the peer's certificates among it.
	ConnectionState() tls.ConnectionState
	RemoteAddr() net.Addr
	// Transport is "quic" or "tcp".
	Transport() string
	// Done is closed when the connection is gone, whichever side ended it.
	Done() <-chan struct{}
	// Close ends the connection and all its streams. It is idempotent.
	Close() error
}

// Mode chooses the transport Dial uses.
type Mode string

// Dial modes.
const (
	ModeAuto Mode = "auto" // QUIC, falling back to TCP
	ModeQUIC Mode = "quic"
	ModeTCP  Mode = "tcp"
)

// ParseMode parses "auto", "quic" or "tcp".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeAuto, ModeQUIC, ModeTCP:
		return m, nil
	}
	return "", fmt.Errorf("transport mode %q: want auto, quic or tcp", s)
}

// withALPN clones conf with our ALPN and TLS 1.3 at least; the caller's stays untouched.
func withALPN(conf *tls.Config) (*tls.Config, error) {
	if conf == nil {
		return nil, errors.New("tls config is nil")
	}
	c := conf.Clone()
	c.NextProtos = []string{ALPN}
	c.MinVersion = max(c.MinVersion, tls.VersionTLS13)
	return c, nil
}

// checkALPN makes sure the peer agreed on our application protocol; a TLS peer that
// sends no ALPN at all would otherwise get through.
func checkALPN(cs tls.ConnectionState) error {
	if cs.NegotiatedProtocol != ALPN {
		return fmt.Errorf("%w: application protocol %q, want %q",
			ErrAuth, cs.NegotiatedProtocol, ALPN)
	}
	return nil
}

// readWithContext runs read and makes it return early through setDeadline when ctx
// ends. If ctx ended, it returns ctx's error, and the deadline may be left set.
func readWithContext(ctx context.Context, setDeadline func(time.Time) error,
	read func() error) error {
	stop := context.AfterFunc(ctx, func() { _ = setDeadline(time.Now()) })
	err := read()
	if !stop() {
		return ctx.Err()
	}
	return err
}

// isNetworkFailure reports whether err came from the network rather than from TLS.
func isNetworkFailure(err error) bool {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, net.ErrClosed):
		return true
	}
	// A TLS alert from the peer comes as an *net.OpError too, but with this Op.
	oe, ok := errors.AsType[*net.OpError](err)
	return ok && oe.Op != "remote error"
}

func logOrDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log.With("component", "transport")
}
