package keyring

import (
	"encoding/base64"
	"fmt"
)

// secretPrefix marks a sealed secret in stored JSON, so a stored value can never be
// mistaken for a plain one.
const secretPrefix = "sealed:v1:"

// SealSecret encrypts a credential given in a request, such as a database password, for
// storage with the job. The result is bound to the account: it opens only for the same
// account under the same master key.
func (kr *Keyring) SealSecret(accountID string, plain string) (string, error) {
	w, err := kr.master.Wrap([]byte(plain), secretAAD(accountID))
	if err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	return secretPrefix + base64.RawStdEncoding.EncodeToString(w), nil
}

// OpenSecret decrypts what SealSecret sealed for the account. An empty value opens to
// an empty secret; anything else that does not open answers an error wrapping ErrUnwrap.
func (kr *Keyring) OpenSecret(accountID, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if len(sealed) < len(secretPrefix) || sealed[:len(secretPrefix)] != secretPrefix {
		return "", fmt.Errorf("%w: not a sealed secret", ErrUnwrap)
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(secretPrefix):])
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnwrap, err)
	}
	plain, err := kr.master.Unwrap(raw, secretAAD(accountID))
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	return string(plain), nil
}

func secretAAD(accountID string) []byte { return []byte("grim secret\x00" + accountID) }
