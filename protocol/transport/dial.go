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
// ModeAuto tries QUIC for at most QUICTimeout, then TCP. It does not fall back when QUIC
// failed with ErrAuth, since TCP would be refused the same way; when both fail, the error
// names both causes.
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
	c, terr := dialTCP(ctx, addr, conf, log)
	if terr != nil {
		return nil, fmt.Errorf("dial %s: quic: %w; tcp: %w", addr, qerr, terr)
	}
	return c, nil
}
