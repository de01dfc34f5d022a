package scythe_test

import (
	"testing"

	"github.com/grim-reaper/grim/pkg/scythe"
)

// BenchmarkVerify measures offline validation of one key: parse, Ed25519
// verification and the claims checks.
func BenchmarkVerify(b *testing.B) {
	pub, priv := newKey(b)
	set := &scythe.KeySet{}
	set.Add(pub)
	key := sign(b, claims(), priv)
	opts := scythe.Options{Now: now, ProductID: "prod_123"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scythe.Verify(key, set, opts); err != nil {
			b.Fatal(err)
		}
	}
}
