// Package agenthub is the controller's side of the agent link. It listens for agents on
// QUIC and TLS over TCP, enrols new agents with one-time join tokens, keeps one session per
// connected agent with heartbeats, and runs jobs on agents as streams of messages.
package agenthub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/pki"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/transport"
)

// Config sets up a Hub.
type Config struct {
	// Addr is the agent endpoint, host:port; QUIC and TCP share the port number.
	Addr string
	// QUIC and TCP choose which transports to listen on; both by default.
	QUIC, TCP bool
	// Heartbeat is how often agents are told to send a heartbeat.
	Heartbeat time.Duration
	// Version is the controller's version, sent to agents.
	Version string
	Logger  *slog.Logger
	Now     func() time.Time
}

func (c *Config) defaults() {
	if c.Heartbeat <= 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if !c.QUIC && !c.TCP {
		c.QUIC, c.TCP = true, true
	}
}

// Hub accepts agent connections and tracks the agents connected to this controller.
type Hub struct {
	cfg   Config
	store *store.Store
	ca    *pki.CA
	log   *slog.Logger

	ln   *transport.Listener
	data DataHandler // serves agents' data streams; set before Start

	mu       sync.Mutex // guards sessions and closed
	sessions map[string]*session
	closed   bool

	wg     sync.WaitGroup // every connection handler
	cancel context.CancelFunc
}

// New returns a hub that is not yet listening; call Start.
func New(cfg Config, st *store.Store, ca *pki.CA) *Hub {
	cfg.defaults()
	return &Hub{
		cfg:      cfg,
		store:    st,
		ca:       ca,
		log:      cfg.Logger.With("component", "agenthub"),
		sessions: make(map[string]*session),
	}
}

// Start opens the agent listener and serves connections until Close.
func (h *Hub) Start(ctx context.Context) error {
	cert, err := h.ca.ServerCertificate()
	if err != nil {
		return fmt.Errorf("agent endpoint certificate: %w", err)
	}
	ln, err := transport.Listen(h.cfg.Addr, h.tlsConfig(cert), transport.ListenOptions{
		QUIC: h.cfg.QUIC, TCP: h.cfg.TCP, Logger: h.cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("listen for agents: %w", err)
	}
	h.ln = ln
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	h.wg.Add(1)
	go h.acceptLoop(ctx)
	h.log.Info("agent endpoint listening", "addr", ln.Addr(), "quic", h.cfg.QUIC, "tcp", h.cfg.TCP)
	return nil
}

// Addr is the address the hub listens on, with the port actually bound.
func (h *Hub) Addr() string { return h.ln.Addr() }

// Fingerprint is the SHA-256 of the CA certificate that agents pin.
func (h *Hub) Fingerprint() string { return h.ca.Fingerprint() }

// Close stops accepting agents, ends every session and waits for their handlers. Agents
// see the connection close and reconnect, to this controller after a restart or to
// another one sharing the database. Close is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	sessions := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()

	var err error
	if h.ln != nil {
		err = h.ln.Close()
	}
	for _, s := range sessions {
		s.conn.Close()
	}
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	return err
}

// Healthy reports whether the agent listener is up, for the status page.
func (h *Hub) Healthy(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil || h.closed {
		return errors.New("agent listener not running")
	}
	return nil
}

// tlsConfig asks for a client certificate but does not require one: a new agent enrols
// without one, and every other message needs it. Certificates of revoked agents are refused
// during the handshake.
func (h *Hub) tlsConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    h.ca.Pool(),
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			return h.checkNotRevoked(cs.PeerCertificates[0])
		},
	}
}

func (h *Hub) checkNotRevoked(cert *x509.Certificate) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	revoked, err := h.store.Agents().IsRevokedSerial(ctx, pki.SerialString(cert.SerialNumber))
	if err != nil {
		return fmt.Errorf("check agent certificate: %w", err)
	}
	if revoked {
		return errors.New("agent certificate revoked")
	}
	return nil
}

func (h *Hub) acceptLoop(ctx context.Context) {
	defer h.wg.Done()
	for {
		conn, err := h.ln.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				h.log.Warn("accept agent connection", "error", err)
			}
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.serveConn(ctx, conn)
		}()
	}
}
