package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

const (
	// bindAttempts is how often Listen tries a fresh port when the UDP twin of a
	// system-chosen TCP port is taken.
	bindAttempts = 5

	// maxAcceptDelay caps the back-off after a failed TCP accept, such as running out of
	// file descriptors.
	maxAcceptDelay = time.Second
)

// ListenOptions chooses the transports a Listener serves.
type ListenOptions struct {
	QUIC   bool
	TCP    bool
	Logger *slog.Logger // nil discards logs
}

// DefaultListenOptions serves both transports and discards logs.
func DefaultListenOptions() ListenOptions {
	return ListenOptions{QUIC: true, TCP: true}
}

// Listener accepts connections over QUIC on UDP and over TLS on TCP, on the same port.
type Listener struct {
	log     *slog.Logger
	tlsConf *tls.Config
	addr    string
	tcp     net.Listener   // nil when TCP is off
	quic    *quic.Listener // nil when QUIC is off
	udp     *udpSocket     // nil when QUIC is off

	conns   chan Conn          // ready connections, handed over to Accept
	closing chan struct{}      // closed by Close
	ctx     context.Context    // lives until Close; handshakes derive their contexts from it
	cancel  context.CancelFunc // ends ctx, and so the handshakes in flight
	wg      sync.WaitGroup     // accept loops and handshakes
	once    sync.Once
}

// Listen listens on addr (host:port) with the transports opts enables. With both on, TCP
// binds first and UDP takes the same port number; port 0 picks one free on both.
//
// tlsConf needs a certificate; Listen clones it and sets ALPN and TLS 1.3. Each
// connection's handshake runs on its own with a 10 s limit, so a slow or failing client
// does not hold up others; failures are logged at Debug.
func Listen(addr string, tlsConf *tls.Config, opts ListenOptions) (*Listener, error) {
	if !opts.QUIC && !opts.TCP {
		return nil, fmt.Errorf("listen %s: no transport enabled", addr)
	}
	conf, err := withALPN(tlsConf)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	tcpLn, udpConn, err := bind(addr, opts)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{
		log:     logOrDiscard(opts.Logger),
		tlsConf: conf,
		tcp:     tcpLn,
		conns:   make(chan Conn),
		closing: make(chan struct{}),
		ctx:     ctx,
		cancel:  cancel,
	}
	if udpConn != nil {
		if err := l.startQUIC(udpConn); err != nil {
			cancel()
			closeAll(tcpLn, udpConn)
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
	}
	if tcpLn != nil {
		l.addr = tcpLn.Addr().String()
		l.wg.Go(l.acceptTCP)
	}
	return l, nil
}

func (l *Listener) startQUIC(udpConn *net.UDPConn) error {
	tr := &quic.Transport{Conn: udpConn, ConnContext: l.watchHandshake}
	ql, err := tr.Listen(l.tlsConf, quicConfig(true))
	if err != nil {
		_ = tr.Close()
		return fmt.Errorf("listen quic: %w", err)
	}
	l.quic = ql
	l.udp = &udpSocket{tr: tr, conn: udpConn, refs: 1}
	l.addr = udpConn.LocalAddr().String()
	l.wg.Go(l.acceptQUIC)
	return nil
}

// Accept returns the next connection that completed its handshake over either
// transport. It fails with an error matching net.ErrClosed once the Listener is closed.
func (l *Listener) Accept(ctx context.Context) (Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closing:
		return nil, fmt.Errorf("accept: %w", net.ErrClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("accept: %w", ctx.Err())
	}
}

// Addr is the host:port the Listener listens on, with the port it got for port 0.
func (l *Listener) Addr() string { return l.addr }

// Close stops accepting on both transports, ends handshakes in flight and unblocks
// Accept. Connections already accepted stay open until their owners close them. Close
// is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.closing)
		l.cancel()
		if l.tcp != nil {
			_ = l.tcp.Close()
		}
		if l.quic != nil {
			_ = l.quic.Close()
		}
		l.wg.Wait()
		if l.udp != nil {
			l.udp.release()
		}
	})
	return nil
}

// deliver hands c to Accept, or closes it if the Listener closes first.
func (l *Listener) deliver(c Conn) {
	select {
	case l.conns <- c:
	case <-l.closing:
		_ = c.Close()
	}
}

func (l *Listener) logHandshakeFailure(transport, remote string, err error) {
	l.log.Debug("handshake failed", "transport", transport, "remote_addr", remote,
		"error", err)
}

func (l *Listener) acceptTCP() {
	var delay time.Duration
	for {
		raw, err := l.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), maxAcceptDelay)
			l.log.Warn("accept tcp connection", "error", err, "retry_in", delay)
			select {
			case <-time.After(delay):
				continue
			case <-l.closing:
				return
			}
		}
		delay = 0
		l.wg.Go(func() { l.serveTCP(raw) })
	}
}

func (l *Listener) serveTCP(raw net.Conn) {
	ctx, cancel := context.WithTimeout(l.ctx, handshakeTimeout)
	defer cancel()
	tc := tls.Server(raw, l.tlsConf)
	if err := sendReadyTCP(ctx, tc); err != nil {
		l.logHandshakeFailure("tcp", raw.RemoteAddr().String(), err)
		_ = raw.Close()
		return
	}
	c, err := newTCPConn(tc, false, l.log)
	if err != nil {
		l.logHandshakeFailure("tcp", raw.RemoteAddr().String(), err)
		_ = raw.Close()
		return
	}
	l.deliver(c)
}

func (l *Listener) acceptQUIC() {
	for {
		// quic-go runs handshakes itself and queues only finished ones; after Close it
		// still returns those queued, then fails.
		qc, err := l.quic.Accept(context.Background())
		if err != nil {
			return
		}
		stopWatching(qc.Context())
		l.udp.acquire()
		context.AfterFunc(qc.Context(), l.udp.release)
		l.wg.Go(func() { l.serveQUIC(qc) })
	}
}

func (l *Listener) serveQUIC(qc *quic.Conn) {
	ctx, cancel := context.WithTimeout(l.ctx, handshakeTimeout)
	defer cancel()
	if err := sendReadyQUIC(ctx, qc); err != nil {
		l.logHandshakeFailure("quic", qc.RemoteAddr().String(), err)
		_ = qc.CloseWithError(codeRefused, "handshake failed")
		return
	}
	l.deliver(&quicConn{qc: qc})
}

// handshakeWatchKey keys the function that stops logging a QUIC connection's failure.
type handshakeWatchKey struct{}

// watchHandshake runs when quic-go starts a handshake. quic-go does not report failed
// handshakes to the listener, so this logs the end of every connection that never
// reached Accept, with the reason quic-go gives.
func (l *Listener) watchHandshake(ctx context.Context,
	info *quic.ClientInfo) (context.Context, error) {
	remote := info.RemoteAddr.String()
	stop := context.AfterFunc(ctx, func() {
		l.logHandshakeFailure("quic", remote, context.Cause(ctx))
	})
	return context.WithValue(ctx, handshakeWatchKey{}, stop), nil
}

func stopWatching(ctx context.Context) {
	if stop, ok := ctx.Value(handshakeWatchKey{}).(func() bool); ok {
		stop()
	}
}

// udpSocket is the QUIC listener's socket. Closing it would end every QUIC connection
// accepted on it, so it stays open while the Listener or any of those is open.
type udpSocket struct {
	tr   *quic.Transport
	conn *net.UDPConn
	mu   sync.Mutex // guards refs
	refs int
}

func (s *udpSocket) acquire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs++
}

func (s *udpSocket) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs == 0 {
		_ = s.tr.Close()
		_ = s.conn.Close()
	}
}

// bind opens the sockets opts asks for. With both, the UDP socket takes the TCP
// listener's address; when the system chose that port and its UDP twin is taken, bind
// tries again with a fresh one.
func bind(addr string, opts ListenOptions) (net.Listener, *net.UDPConn, error) {
	if !opts.QUIC {
		ln, err := net.Listen("tcp", addr)
		return ln, nil, err
	}
	if !opts.TCP {
		uc, err := listenUDP(addr)
		return nil, uc, err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	attempts := 1
	if port == "" || port == "0" {
		attempts = bindAttempts
	}
	var lastErr error
	for range attempts {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		ta := ln.Addr().(*net.TCPAddr)
		uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: ta.IP, Port: ta.Port, Zone: ta.Zone})
		if err == nil {
			return ln, uc, nil
		}
		_ = ln.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("udp twin of the tcp port: %w", lastErr)
}

func listenUDP(addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.ListenUDP("udp", ua)
}

func closeAll(ln net.Listener, uc *net.UDPConn) {
	if ln != nil {
		_ = ln.Close()
	}
	if uc != nil {
		_ = uc.Close()
	}
}
