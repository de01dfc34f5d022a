package protocol

import (
	"bytes"
	"encoding/hex"
	"strconv"

	"github.com/grim-reaper/grim/protocol/blob"
)

// The id lists of MissingRequest and GetRequest, and MissingResponse's flags, are the
// only JSON a backup sends in bulk: one flag and one id per file of an unchanged host.
// encoding/json spends more on them (reflection, a text unmarshaler per id, a scan of the
// whole payload before decoding it) than the controller spends looking the ids up, so
// these messages write their JSON themselves and read it back with a parser of the exact
// form they write. The wire format does not change: the form is byte for byte what
// encoding/json writes, and any other valid JSON (spaces, upper-case hex, escapes) falls
// back to encoding/json.

// jsonAppender is a message that appends its own JSON, as encoding/json would write it.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// jsonParser is a message that parses the JSON its appendJSON writes; false leaves the
// payload to encoding/json.
type jsonParser interface {
	parseJSON(p []byte) bool
}

func (m *MissingRequest) appendJSON(b []byte) []byte { return appendIDList(b, "ids", m.IDs) }

func (m *MissingRequest) parseJSON(p []byte) bool {
	ids, ok := parseIDList(p, "ids")
	m.IDs = ids
	return ok
}

func (m *GetRequest) appendJSON(b []byte) []byte { return appendIDList(b, "ids", m.IDs) }

func (m *GetRequest) parseJSON(p []byte) bool {
	ids, ok := parseIDList(p, "ids")
	m.IDs = ids
	return ok
}

func (m *MissingResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"missing":`...)
	if m.Missing == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, v := range m.Missing {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendBool(b, v)
	}
	return append(b, "]}"...)
}

func (m *MissingResponse) parseJSON(p []byte) bool {
	body, ok := listBody(p, "missing")
	switch {
	case !ok:
		return false
	case body == nil:
		m.Missing = nil
		return true
	}
	flags := make([]bool, 0, len(body)/5)
	for len(body) > 0 {
		switch {
		case bytes.HasPrefix(body, []byte("true")):
			flags, body = append(flags, true), body[4:]
		case bytes.HasPrefix(body, []byte("false")):
			flags, body = append(flags, false), body[5:]
		default:
			return false
		}
		if len(body) > 0 {
			if body[0] != ',' || len(body) == 1 {
				return false
			}
			body = body[1:]
		}
	}
	m.Missing = flags
	return true
}

// appendIDList appends {"key":[ids as hex strings]}, or null for a nil list.
func appendIDList(b []byte, key string, ids []blob.ID) []byte {
	b = append(append(append(b, `{"`...), key...), `":`...)
	if ids == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = hex.AppendEncode(b, ids[i][:])
		b = append(b, '"')
	}
	return append(b, "]}"...)
}

// parseIDList parses what appendIDList writes.
func parseIDList(p []byte, key string) ([]blob.ID, bool) {
	body, ok := listBody(p, key)
	if !ok || body == nil {
		return nil, ok
	}
	const item = 2 + 2*blob.IDSize // the quoted hex of one id
	n := 0
	if len(body) > 0 {
		n = (len(body) + 1) / (item + 1)
		if n*(item+1)-1 != len(body) {
			return nil, false
		}
	}
	ids := make([]blob.ID, n)
	for i := range ids {
		s := body[i*(item+1):]
		if s[0] != '"' || s[item-1] != '"' || i < n-1 && s[item] != ',' {
			return nil, false
		}
		if _, err := hex.Decode(ids[i][:], s[1:item-1]); err != nil {
			return nil, false
		}
	}
	return ids, true
}

// listBody returns what lies between the brackets of {"key":[...]}: nil for
// {"key":null}, an empty non-nil slice for an empty list, false for any other form.
func listBody(p []byte, key string) ([]byte, bool) {
	head := len(`{"`) + len(key) + len(`":`)
	if len(p) < head+len("[]}") || string(p[:2]) != `{"` || string(p[2:2+len(key)]) != key ||
		string(p[2+len(key):head]) != `":` || p[len(p)-1] != '}' {
		return nil, false
	}
	v := p[head : len(p)-1]
	if string(v) == "null" {
		return nil, true
	}
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
		return nil, false
	}
	return v[1 : len(v)-1 : len(v)-1], true
}
