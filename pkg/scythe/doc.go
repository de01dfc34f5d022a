// Package scythe verifies Grim Reaper license keys offline, with nothing but
// the issuing account's public keys.
//
// A license key is one line of text that carries its own signed claims:
//
//	scy1.<key id>.<claims>.<signature>
//
// The claims are JSON (see Claims) and both they and the signature are
// unpadded base64url. The signature is Ed25519 over the first three parts as
// they appear in the key, dots included. The key id names the signing key,
// so that the controller can rotate its signing keys while licenses signed
// by an older key keep verifying: a KeySet holds every key that may still
// verify.
//
// Software that wants to check its license without calling the controller
// saves the reply of GET /api/licenses/public-key beside itself, loads it
// with ParseKeySet, and calls Verify:
//
//	keys, err := scythe.ParseKeySet(publicKeyJSON)
//	claims, err := scythe.Verify(licenseKey, keys, scythe.Options{ProductID: "prod_123"})
//	if err != nil {
//		log.Fatalf("license refused: %s", scythe.ReasonOf(err))
//	}
//
// Offline verification checks the signature, the product and the expiry. It
// cannot know that a license was revoked or that its seats are taken: only
// POST /api/licenses/validate answers those.
package scythe
