package webhook

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSignKnownVector(t *testing.T) {
	// Computed independently: python3 hmac.new(b"whsec_test", b'1700000000.{"a":1}',
	// hashlib.sha256).hexdigest().
	got := Sign([]byte("whsec_test"), 1700000000, []byte(`{"a":1}`))
	assert.Equal(t, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789",
		got)
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":"evt_1"}`)
	good := Sign(secret, now.Unix(), body)
	cases := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		ok     bool
	}{
		{"valid", secret, good, body, true},
		{"valid with a second, unknown signature", secret, good + ",v1=00ff", body, true},
		{"another secret", []byte("other"), good, body, false},
		{"changed body", secret, good, []byte(`{"id":"evt_2"}`), false},
		{"too old", secret, Sign(secret, now.Add(-10*time.Minute).Unix(), body), body, false},
		{"from the future", secret, Sign(secret, now.Add(10*time.Minute).Unix(), body), body, false},
		{"no timestamp", secret, "v1=abcd", body, false},
		{"no signature", secret, "t=1700000000", body, false},
		{"garbage", secret, "t=x,v1=y", body, false},
		{"empty", secret, "", body, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.header, c.body, now, 5*time.Minute)
			if c.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrBadSignature)
			}
		})
	}
}

func TestRetrySchedule(t *testing.T) {
	r := Retry{Base: 10 * time.Second, Max: time.Hour, GiveUpAfter: 24 * time.Hour}
	cases := []struct {
		attempt int
		full    time.Duration
	}{
		{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second},
		{9, 2560 * time.Second}, {10, time.Hour}, {80, time.Hour},
	}
	for _, c := range cases {
		assert.Equal(t, c.full, r.Delay(c.attempt, 0), "attempt %d without jitter", c.attempt)
		assert.InDelta(t, float64(c.full)/2, float64(r.Delay(c.attempt, 0.9999999)),
			float64(c.full)/1e6, "attempt %d with the most jitter", c.attempt)
	}

	created := time.Unix(0, 0)
	next, ok := r.Next(created, created.Add(23*time.Hour), 30, 0)
	assert.True(t, ok)
	assert.Equal(t, created.Add(24*time.Hour), next)
	_, ok = r.Next(created, created.Add(23*time.Hour+time.Second), 30, 0)
	assert.False(t, ok, "past GiveUpAfter the delivery fails for good")
}

// FuzzVerify feeds Verify arbitrary headers and bodies: it must never panic, and it may
// accept only a header holding what Sign makes for that body at one of its times.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret")
	now := time.Unix(1700000000, 0)
	f.Add(Sign(secret, now.Unix(), []byte("{}")), []byte("{}"))
	f.Add("t=1700000000,v1=zz,v1=", []byte(""))
	f.Add(",,=,t=,v1", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if Verify(secret, header, body, now, time.Hour) != nil {
			return
		}
		lower := strings.ToLower(header)
		for part := range strings.SplitSeq(header, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			ts, err := strconv.ParseInt(v, 10, 64)
			if k != "t" || err != nil {
				continue
			}
			sig := Sign(secret, ts, body)
			if strings.Contains(lower, sig[strings.Index(sig, "v1="):]) {
				return
			}
		}
		t.Fatalf("accepted a header Sign did not make: %q", header)
	})
}
