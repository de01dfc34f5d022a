package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	HeaderEvent     = "X-Grim-Event"
	HeaderDelivery  = "X-Grim-Delivery"
	HeaderSignature = "X-Grim-Signature"
)

// ErrBadSignature means a signature header does not match the body and secret, is
// malformed, or is too old.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Sign returns the X-Grim-Signature value for body sent at unix time t:
// "t=<t>,v1=<hex HMAC-SHA256 keyed with secret over "<t>.<body>">".
func Sign(secret []byte, t int64, body []byte) string {
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + hex.EncodeToString(mac(secret, t, body))
}

func mac(secret []byte, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a signature header as a receiver should: some v1 matches body under
// secret in constant time, and t is within tolerance of now (a replayed old delivery
// fails). It returns ErrBadSignature otherwise.
func Verify(secret []byte, header string, body []byte, now time.Time,
	tolerance time.Duration) error {
	var t int64 = -1
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ErrBadSignature
			}
			t = n
		case "v1":
			if raw, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, raw)
			}
		}
	}
	if t < 0 || len(sigs) == 0 {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return ErrBadSignature
	}
	want := mac(secret, t, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}
