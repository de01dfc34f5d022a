package scythe_test

import (
	"fmt"
	"time"

	"github.com/grim-reaper/grim/pkg/scythe"
)

// The reply of GET /api/licenses/public-key, saved beside the program, and a
// key issued by POST /api/licenses/generate.
func ExampleVerify() {
	publicKeys := []byte(`{"success":true,"keys":[{"id":"…","algorithm":"Ed25519",` +
		`"public_key":"…","current":true}]}`)
	licenseKey := "scy1.…"

	keys, err := scythe.ParseKeySet(publicKeys)
	if err != nil {
		fmt.Println("no usable public keys:", err != nil)
		return
	}
	claims, err := scythe.Verify(licenseKey, keys,
		scythe.Options{ProductID: "prod_123", Now: time.Now()})
	if err != nil {
		fmt.Println("license refused:", scythe.ReasonOf(err))
		return
	}
	fmt.Println("licensed to", claims.Customer, "until", claims.ExpiresAt)
	// Output: no usable public keys: true
}
