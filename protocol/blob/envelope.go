package blob

import "fmt"

// CheckSealed checks what can be checked of a sealed blob without the account's keys:
// the format version, a known cipher, and a length that holds the nonce, the inner
// header and the AEAD's tag. Whether the ciphertext is intact only Open can tell; the
// controller, which stores blobs without opening them, relies on the SHA-256 that names
// each pack for that. Any failure is ErrCorrupt.
func CheckSealed(sealed []byte) error {
	if len(sealed) < 2 || sealed[0] != formatVersion {
		return fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	var nonce, tag int
	switch sealed[1] {
	case cipherIDX:
		nonce, tag = 24, 16
	case cipherIDGCM:
		nonce, tag = 12, 16
	default:
		return fmt.Errorf("%w: unknown cipher", ErrCorrupt)
	}
	if len(sealed)-2 < nonce+tag+innerHeader {
		return fmt.Errorf("%w: too short", ErrCorrupt)
	}
	return nil
}
