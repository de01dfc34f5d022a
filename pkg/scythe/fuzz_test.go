package scythe_test

import (
	"strings"
	"testing"
	"time"

	"github.com/grim-reaper/grim/pkg/scythe"
)

// FuzzParse feeds the decoder arbitrary text. It must never panic, and a key
// it accepts must not verify under a key set that lacks its signer, nor
// under its signer's set once anything was changed.
func FuzzParse(f *testing.F) {
	pub, priv := newKey(f)
	set := &scythe.KeySet{}
	set.Add(pub)
	good := sign(f, claims(), priv)
	f.Add(good)
	f.Add("")
	f.Add("scy1....")
	f.Add("scy1.0123456789abcdef.e30.AAAA")
	f.Add(good[:len(good)-3])
	f.Fuzz(func(t *testing.T, key string) {
		tok, err := scythe.Parse(key)
		if err != nil {
			if scythe.ReasonOf(err) != scythe.ReasonMalformed {
				t.Fatalf("parse error %v is not malformed", err)
			}
			return
		}
		if err := tok.Claims.Check(); err != nil {
			t.Fatalf("parse accepted claims that fail Check: %v", err)
		}
		_, err = scythe.Verify(key, set, scythe.Options{Now: time.Unix(1, 0)})
		if err == nil && strings.TrimSpace(key) != good {
			t.Fatalf("a key other than the signed one verified: %q", key)
		}
	})
}
