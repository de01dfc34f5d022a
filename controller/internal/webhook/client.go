package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// maxReplyRead is how much of a receiver's reply is read before the connection is
// closed: the body is never used, only drained so the connection can be reused.
const maxReplyRead = 64 << 10

// LookupFunc resolves a host name to addresses.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// clientOptions tune the outbound HTTP client.
type clientOptions struct {
	allowPrivate    bool
	connectTimeout  time.Duration
	responseTimeout time.Duration
	lookup          LookupFunc
}

// newClient returns the HTTP client deliveries go out with. It resolves names itself and
// checks every address it is about to connect to (in the dialer's Control hook, after
// resolution), so a name that resolves to a public address when a webhook is created
// and to a private one later (DNS rebinding) is still refused. It uses no proxy (the
// check would then judge the proxy), follows no redirects (a 3xx is a failed attempt),
// and bounds connecting, the TLS handshake and the wait for the reply's headers.
func newClient(o clientOptions) *http.Client {
	guard := &net.Dialer{Timeout: o.connectTimeout, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			return checkDial(o.allowPrivate, address)
		}}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialResolved(ctx, guard, o.lookup, network, addr)
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		TLSHandshakeTimeout:    o.connectTimeout,
		ResponseHeaderTimeout:  o.responseTimeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           32,
		IdleConnTimeout:        time.Minute,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   o.connectTimeout + o.responseTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkDial refuses a connection to a blocked address unless private targets are
// allowed.
func checkDial(allowPrivate bool, address string) error {
	if allowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	return CheckAddr(ap.Addr())
}

// dialResolved resolves addr's host with lookup and connects to its addresses in turn
// through d, whose Control hook judges each.
func dialResolved(ctx context.Context, d *net.Dialer, lookup LookupFunc, network,
	addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := resolve(ctx, lookup, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// resolve returns host's addresses: host itself when it is an address literal.
func resolve(ctx context.Context, lookup LookupFunc, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return addrs, nil
}

// defaultLookup resolves with the system's resolver.
func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// request is one attempt's HTTP request.
type request struct {
	url      string
	event    string
	delivery string
	sig      string
	body     []byte
}

// reply is what came back: the status code, 0 when none came.
type reply struct {
	status   int
	duration time.Duration
}

// post sends r and reads at most maxReplyRead of the reply. A transport error (refused
// address, timeout, reset) is returned with the time spent.
func post(ctx context.Context, c *http.Client, userAgent string, r request) (reply, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return reply{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderEvent, r.event)
	req.Header.Set(HeaderDelivery, r.delivery)
	req.Header.Set(HeaderSignature, r.sig)
	req.Header.Set("Content-Length", strconv.Itoa(len(r.body)))
	resp, err := c.Do(req)
	if err != nil {
		return reply{duration: time.Since(start)}, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReplyRead))
	resp.Body.Close()
	return reply{status: resp.StatusCode, duration: time.Since(start)}, nil
}
