package webhook

import (
	"fmt"
	"net/netip"
)

// BlockedError is a webhook target address that the controller will not connect to.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

// Error implements error.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("address %s is %s; webhooks may not target it without "+
		"--allow-private-webhooks", e.Addr, e.Reason)
}

// blockedRange is a range of addresses that does not lead to the public internet.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges are refused as webhook targets: what reaches the controller itself, its
// networks or a cloud's metadata service (169.254.169.254, fd00:ec2::254 and
// 100.100.100.200 lie in the link-local, unique-local and CGNAT ranges), plus ranges
// reserved for documentation, benchmarks, multicast and future use.
var blockedRanges = func() []blockedRange {
	list := []struct{ cidr, reason string }{
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "shared address space (CGNAT)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local (cloud metadata)"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "reserved for protocols"},
		{"192.0.2.0/24", "reserved for documentation"},
		{"192.88.99.0/24", "a 6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "reserved for benchmarks"},
		{"198.51.100.0/24", "reserved for documentation"},
		{"203.0.113.0/24", "reserved for documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible"},
		{"64:ff9b:1::/48", "local NAT64"},
		{"100::/64", "a discard prefix"},
		{"2001::/23", "reserved for protocols"},
		{"2001:db8::/32", "reserved for documentation"},
		{"fc00::/7", "unique local (private)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]blockedRange, len(list))
	for i, r := range list {
		out[i] = blockedRange{prefix: netip.MustParsePrefix(r.cidr), reason: r.reason}
	}
	return out
}()

// nat64 and sixToFour embed an IPv4 address, which is judged in their place.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// CheckAddr returns a *BlockedError when a is not an address on the public internet. An
// IPv4 address written as IPv6 (mapped, NAT64 or 6to4) is judged as the IPv4 address.
func CheckAddr(a netip.Addr) error {
	if !a.IsValid() {
		return &BlockedError{Addr: a, Reason: "invalid"}
	}
	orig := a.WithZone("")
	a = embeddedIPv4(orig)
	for _, r := range blockedRanges {
		if r.prefix.Contains(a) {
			return &BlockedError{Addr: orig, Reason: r.reason}
		}
	}
	return nil
}

// embeddedIPv4 returns the IPv4 address that a carries in one of the IPv6 forms that
// route to it, or a itself.
func embeddedIPv4(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if !a.Is6() {
		return a
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return a
}
