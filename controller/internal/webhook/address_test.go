package webhook

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		addr    string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"0.0.0.0", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"100.64.0.1", true},      // CGNAT
		{"100.100.100.200", true}, // Alibaba Cloud metadata, in CGNAT
		{"169.254.169.254", true}, // AWS, GCP, Azure metadata
		{"169.254.0.1", true},
		{"224.0.0.1", true},
		{"255.255.255.255", true},
		{"198.18.0.1", true},
		{"192.0.2.10", true},
		{"::1", true},
		{"::", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true},
		{"fd00:ec2::254", true}, // AWS metadata over IPv6
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::127.0.0.1", true},           // IPv4-compatible
		{"64:ff9b::7f00:1", true},       // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true},    // NAT64 of 169.254.169.254
		{"2002:7f00:1::1", true},        // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", true},      // 6to4 of 192.168.1.1
		{"2001:db8::1", true},           // documentation
		{"8.8.8.8", false},              // public
		{"1.1.1.1", false},              //
		{"172.32.0.1", false},           // just past 172.16/12
		{"100.128.0.1", false},          // just past 100.64/10
		{"::ffff:8.8.8.8", false},       // a mapped public address
		{"64:ff9b::808:808", false},     // NAT64 of 8.8.8.8
		{"2606:4700:4700::1111", false}, // public IPv6
		{"2a00:1450:4001:80b::200e", false},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			a, err := netip.ParseAddr(c.addr)
			require.NoError(t, err)
			err = CheckAddr(a)
			var blocked *BlockedError
			assert.Equal(t, c.blocked, errors.As(err, &blocked), "%s: %v", c.addr, err)
		})
	}
}

// fakeLookup resolves the names it knows; others fail like a name without records.
func fakeLookup(names map[string]string) LookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := names[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, errors.New("no such host")
	}
}

// TestCreateRefusesPrivateTargets checks the check at creation, without the flag and
// with it.
func TestCreateRefusesPrivateTargets(t *testing.T) {
	w := newWorld(t, openStore(t))
	lookup := fakeLookup(map[string]string{"inside.example": "10.0.0.7",
		"v6inside.example": "::ffff:192.168.0.1", "hooks.example.com": "93.184.216.34"})
	strict := w.service(func(c *Config) { c.AllowPrivate = false; c.Lookup = lookup })
	open := w.service(func(c *Config) { c.Lookup = lookup })
	cases := []struct {
		url     string
		refused bool
	}{
		{"http://127.0.0.1:8080/hook", true},
		{"http://[::1]/hook", true},
		{"http://[::ffff:127.0.0.1]/hook", true},
		{"http://[::ffff:7f00:1]/hook", true},
		{"http://localhost:9000/hook", true},
		{"http://api.localhost/hook", true},
		{"http://169.254.169.254/latest/meta-data/", true},
		{"http://[fd00:ec2::254]/", true},
		{"http://100.100.100.200/", true},
		{"http://10.1.2.3/", true},
		{"http://0.0.0.0/", true},
		{"http://inside.example/hook", true},   // resolves to a private address
		{"http://v6inside.example/hook", true}, // resolves to a mapped private one
		{"https://hooks.example.com/grim", false},
		{"https://93.184.216.34/grim", false},
		{"https://unknown.example/grim", false}, // unresolvable now: checked at each dial
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			_, _, err := strict.Create(context.Background(), w.user.ID, CreateRequest{URL: c.url,
				Events: []string{store.EventBackupFailed}})
			var field *FieldError
			if c.refused {
				require.ErrorAs(t, err, &field)
				assert.Equal(t, "url", field.Field)
				assert.Contains(t, field.Message, "--allow-private-webhooks")
			} else {
				assert.NoError(t, err)
			}
			_, _, err = open.Create(context.Background(), w.user.ID, CreateRequest{URL: c.url,
				Events: []string{store.EventBackupFailed}})
			assert.NoError(t, err, "with --allow-private-webhooks")
		})
	}
}

// TestDialRefusesPrivateTargets is the check that counts: at connect time, on the
// address actually dialed. The webhooks here were stored when their names looked
// public (or before the flag was dropped); the receiver on loopback must get nothing.
func TestDialRefusesPrivateTargets(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	rcv := newReceiver(t)
	u, err := url.Parse(rcv.URL)
	require.NoError(t, err)
	port := u.Port()
	strict := w.service(func(c *Config) {
		c.AllowPrivate = false
		// rebind.example answered with a public address at creation; it now says loopback.
		c.Lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host == "rebind.example" {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return defaultLookup(ctx, host) // the system resolver: localhost is loopback
		}
	})
	open := w.service()
	targets := []string{
		"http://rebind.example:" + port + "/hook",
		"http://localhost:" + port + "/hook",
		"http://127.0.0.1:" + port + "/hook",
		"http://[::ffff:127.0.0.1]:" + port + "/hook",
	}
	for _, target := range targets {
		hook(t, open, w.user.ID, target, store.EventSystemAlert)
	}
	require.NoError(t, strict.Alerter().Alert(ctx, w.user.ID, "test_alert", "hello", nil))
	strict.dispatch(ctx)
	strict.deliver(ctx)

	assert.Empty(t, rcv.requests(), "nothing reached the loopback receiver")
	hooks, _, err := w.st.Webhooks().List(ctx, w.user.ID, 10, 0)
	require.NoError(t, err)
	require.Len(t, hooks, len(targets))
	for _, h := range hooks {
		ds, _, err := w.st.Deliveries().List(ctx, h.ID, 10, 0)
		require.NoError(t, err)
		require.Len(t, ds, 1, h.URL)
		assert.Equal(t, store.DeliveryPending, ds[0].Status, "retried later: DNS may change")
		assert.True(t, strings.HasPrefix(ds[0].Error, "refused: address "), ds[0].Error)
		assert.NotContains(t, ds[0].Error, "/hook", "errors never hold the URL")
		assert.Zero(t, ds[0].StatusCode)
	}
}
