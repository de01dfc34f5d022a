package link

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/grim-reaper/grim/agent/internal/identity"
	"github.com/grim-reaper/grim/internal/buildinfo"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/jointoken"
	"github.com/grim-reaper/grim/protocol/transport"
)

// EnrollOptions says where and how to enrol.
type EnrollOptions struct {
	Controller string // host:port of the agent endpoint
	Token      string // one-time join token; it holds a secret
	Name       string
	Hostname   string
	StateDir   string
	Mode       transport.Mode
}

// Enroll redeems a join token at the controller and saves the identity it returns in the
// state directory. The controller is trusted only if it holds the CA the token pins.
func Enroll(ctx context.Context, o EnrollOptions) (*identity.Identity, error) {
	tok, err := jointoken.Parse(o.Token)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	key, csr, err := identity.NewKey()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, o.Controller, enrollTLS(tok), o.Mode, transport.DialOptions{})
	if err != nil {
		return nil, fmt.Errorf("enrol: connect to %s: %w", o.Controller, err)
	}
	defer conn.Close()

	resp, err := exchange[*protocol.EnrollResponse](ctx, conn, &protocol.EnrollRequest{
		Token: o.Token, Name: o.Name, Hostname: o.Hostname, OS: runtime.GOOS,
		Arch: runtime.GOARCH, AgentVersion: buildinfo.Version, CSR: csr,
	})
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	if !tok.PinMatches(resp.CACertificate) {
		return nil, fmt.Errorf("enrol: controller returned a CA other than the pinned one")
	}
	info := identity.Info{AgentID: resp.AgentID, Name: resp.AgentName, Controller: o.Controller}
	if err := identity.Save(o.StateDir, info, key, resp.Certificate, resp.CACertificate); err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	return identity.Load(o.StateDir)
}

// exchange opens a stream, sends one message and waits for one reply of type T.
func exchange[T protocol.Message](ctx context.Context, conn transport.Conn,
	req protocol.Message) (T, error) {
	var zero T
	st, err := conn.OpenStream(ctx)
	if err != nil {
		return zero, fmt.Errorf("open stream: %w", err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, st.Reset)
	defer stop()
	if err := protocol.NewEncoder(st).Encode(req); err != nil {
		return zero, fmt.Errorf("send %s: %w", req.Type(), err)
	}
	return protocol.Expect[T](protocol.NewDecoder(st))
}
