package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultQUICTimeout is how long ModeAuto waits for QUIC before it tries TCP.
const DefaultQUICTimeout = 3 * time.Second

// minQUICGrace is the least time ModeAuto gives its second QUIC attempt once TCP has
// connected; see dialFallback.
const minQUICGrace = 500 * time.Millisecond

// DialOptions tunes Dial. The zero value is ready to use.
type DialOptions struct {
	// QUICTimeout bounds the QUIC attempt of ModeAuto; zero means DefaultQUICTimeout.
	QUICTimeout time.Duration
	// Logger receives the connection's debug logs; nil discards them.
	Logger *slog.Logger
}

// Dial connects to a Listener at addr with mode's transport.
//
// tlsConf should carry the client certificate and the roots that verify the listener;
// Dial clones it and sets ALPN and TLS 1.3. Dial returns only once the listener has
// accepted the client: with TLS 1.3 a client finishes its handshake before the server
// checks the client's certificate, so the listener confirms with a one-byte signal.
// TLS failures, a refused certificate among them, match ErrAuth.
//
// ModeAuto tries QUIC for at most QUICTimeout, then TCP and QUIC again side by side, and
// takes QUIC if it answers soon after TCP did (dialFallback). It does not fall back when
// QUIC failed with ErrAuth, since TCP would be refused the same way; when both fail, the
// error names both causes.
func Dial(ctx context.Context, addr string, tlsConf *tls.Config, mode Mode,
	opts DialOptions) (Conn, error) {
	conf, err := withALPN(tlsConf)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	log := logOrDiscard(opts.Logger)
	var c Conn
	switch mode {
	case ModeQUIC:
		c, err = dialQUIC(ctx, addr, conf)
	case ModeTCP:
		c, err = dialTCP(ctx, addr, conf, log)
	case ModeAuto, "":
		return dialAuto(ctx, addr, conf, opts, log)
	default:
		return nil, fmt.Errorf("dial %s: unknown transport mode %q", addr, mode)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s over %s: %w", addr, mode, err)
	}
	return c, nil
}

func dialAuto(ctx context.Context, addr string, conf *tls.Config, opts DialOptions,
	log *slog.Logger) (Conn, error) {
	timeout := opts.QUICTimeout
	if timeout <= 0 {
		timeout = DefaultQUICTimeout
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	c, qerr := dialQUIC(qctx, addr, conf)
	cancel()
	if qerr == nil {
		return c, nil
	}
	if errors.Is(qerr, ErrAuth) || ctx.Err() != nil {
		return nil, fmt.Errorf("dial %s over quic: %w", addr, qerr)
	}
	log.Debug("quic failed, trying tcp", "remote_addr", addr, "error", qerr)
	c, terr := dialFallback(ctx, addr, conf, timeout, log)
	if terr != nil {
		return nil, fmt.Errorf("dial %s: quic: %w; tcp: %w", addr, qerr, terr)
	}
	return c, nil
}

// dialFallback dials TCP after QUIC got no answer, with a fresh QUIC attempt beside it,
// and prefers QUIC when that attempt connects within a grace of twice what TCP took
// (at least minQUICGrace, at most the QUIC timeout) after TCP did.
//
// A QUIC attempt that began while the listener was down, as when a controller restarts,
// can go unanswered for seconds after the listener is back: QUIC resends its first
// packet ever more slowly (about 0.2, 0.6, 1.4 and 3 s after the start) and the listener
// only ever sees the resends. A fresh attempt is answered at once. Without it, every
// agent whose reconnect spanned a controller's restart stayed on TCP for the whole
// session. Where UDP is blocked the fallback costs the grace once per connection.
func dialFallback(ctx context.Context, addr string, conf *tls.Config, timeout time.Duration,
	log *slog.Logger) (Conn, error) {
	qctx, cancelQUIC := context.WithCancel(ctx)
	defer cancelQUIC()
	fresh := make(chan Conn, 1)
	go func() {
		c, err := dialQUIC(qctx, addr, conf)
		if err != nil {
			log.Debug("second quic attempt failed", "remote_addr", addr, "error", err)
		}
		fresh <- c
	}()
	// takeQUIC ends the QUIC attempt and returns its connection, if it made one.
	takeQUIC := func() Conn {
		cancelQUIC()
		return <-fresh
	}

	start := time.Now()
	tc, err := dialTCP(ctx, addr, conf, log)
	if err != nil {
		if qc := takeQUIC(); qc != nil {
			return qc, nil
		}
		return nil, err
	}
	grace := time.NewTimer(min(max(2*time.Since(start), minQUICGrace), timeout))
	defer grace.Stop()
	select {
	case qc := <-fresh:
		fresh <- qc // for takeQUIC below
	case <-grace.C:
	}
	if qc := takeQUIC(); qc != nil {
		_ = tc.Close()
		return qc, nil
	}
	return tc, nil
}
