package tree

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/grim-reaper/grim/protocol/blob"
)

// appendTree appends t as JSON, byte for byte what encoding/json makes of it (a test holds
// the two together), so that tree ids stay what they were when trees were encoded with
// encoding/json, while costing a fraction of its reflection. Every backup encodes every
// directory of the host again, changed or not. ok is false for a tree encoding/json would
// refuse (a time outside the years 0 to 9999); the caller then lets encoding/json report
// the error.
func appendTree(b []byte, t *Tree) ([]byte, bool) {
	if t.Nodes == nil {
		return append(b, `{"nodes":null}`...), true
	}
	b = append(b, `{"nodes":[`...)
	for i := range t.Nodes {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendNode(b, &t.Nodes[i]); !ok {
			return b, false
		}
	}
	return append(b, "]}"...), true
}

// appendNode appends one node's fields in the order Node declares them, leaving out the
// empty ones its tags mark omitempty or omitzero.
func appendNode(b []byte, n *Node) ([]byte, bool) {
	b = appendString(append(b, `{"name":`...), n.Name)
	b = appendString(append(b, `,"type":`...), n.Type)
	b = strconv.AppendUint(append(b, `,"mode":`...), uint64(n.Mode), 10)
	b = strconv.AppendUint(append(b, `,"uid":`...), uint64(n.UID), 10)
	b = strconv.AppendUint(append(b, `,"gid":`...), uint64(n.GID), 10)
	if n.User != "" {
		b = appendString(append(b, `,"user":`...), n.User)
	}
	if n.Group != "" {
		b = appendString(append(b, `,"group":`...), n.Group)
	}
	var ok bool
	if b, ok = appendTime(append(b, `,"mtime":`...), n.ModTime); !ok {
		return b, false
	}
	if !n.AccessTime.IsZero() {
		if b, ok = appendTime(append(b, `,"atime":`...), n.AccessTime); !ok {
			return b, false
		}
	}
	if b, ok = appendTime(append(b, `,"ctime":`...), n.ChangeTime); !ok {
		return b, false
	}
	b = appendUintField(b, `,"size":`, n.Size)
	b = appendUintField(b, `,"inode":`, n.Inode)
	b = appendUintField(b, `,"device":`, n.Device)
	b = appendUintField(b, `,"links":`, n.Links)
	b = appendUintField(b, `,"rdev":`, n.RDev)
	if n.LinkTarget != "" {
		b = appendString(append(b, `,"link_target":`...), n.LinkTarget)
	}
	if len(n.Content) > 0 {
		b = append(b, `,"content":[`...)
		for i := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendID(b, &n.Content[i])
		}
		b = append(b, ']')
	}
	if n.Subtree != nil {
		b = appendID(append(b, `,"subtree":`...), n.Subtree)
	}
	if len(n.Xattrs) > 0 {
		b = appendXattrs(append(b, `,"xattrs":`...), n.Xattrs)
	}
	return append(b, '}'), true
}

func appendUintField(b []byte, key string, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(append(b, key...), v, 10)
}

func appendXattrs(b []byte, xs []Xattr) []byte {
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"name":`...), xs[i].Name)
		b = append(b, `,"value":`...)
		if xs[i].Value == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, xs[i].Value)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendID appends an id as its hex text, which needs no escaping.
func appendID(b []byte, id *blob.ID) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range id {
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return append(b, '"')
}

// appendTime appends t as time.Time.MarshalJSON does. It takes only UTC times, which
// Marshal gives it; false for any other, or a year MarshalJSON refuses.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, offset := t.Zone(); offset != 0 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendString appends s as a JSON string escaped as encoding/json escapes it: control
// characters, quote and backslash, the HTML characters <, > and &, U+2028 and U+2029, and
// each byte of invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
