package blob

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestWorthCompressing(t *testing.T) {
	random := incompressible(1 << 20)
	// Random bytes with a long compressible stretch in the middle, as in an archive
	// holding one text file: most windows look random, but not all of them.
	mixed := incompressible(1 << 20)
	copy(mixed[300<<10:], compressible(400<<10))
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"random", random, false},
		{"random, small enough to just compress", random[:sniffMin-1], true},
		{"text", compressible(1 << 20), true},
		{"zeros", make([]byte, 1<<20), true},
		{"hex of random", []byte(hex.EncodeToString(random[:512<<10])), true},
		{"base64 of random", []byte(base64.StdEncoding.EncodeToString(random[:768<<10])), true},
		{"random with a text stretch", mixed, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := worthCompressing(tc.data); got != tc.want {
				t.Fatalf("worthCompressing = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSealStoresRandomDataAsIs checks the compression flag Seal records: random data is
// stored as it is and text compressed, and both open to what was sealed.
func TestSealStoresRandomDataAsIs(t *testing.T) {
	c := testCodec(t, "", CompressionZstd)
	for _, tc := range []struct {
		name string
		data []byte
		comp byte
	}{
		{"random", incompressible(1 << 20), compIDNone},
		{"text", compressible(1 << 20), compIDZstd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := c.ID(tc.data)
			sealed, err := c.Seal([]byte("prefix"), id, KindData, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			sealed = sealed[len("prefix"):]
			inner, err := c.xchach.Open(nil, sealed[2:2+24], sealed[2+24:], id[:])
			if err != nil {
				t.Fatal(err)
			}
			if inner[1] != tc.comp {
				t.Fatalf("compression id %d, want %d", inner[1], tc.comp)
			}
			if tc.comp == compIDNone && len(sealed) != 2+24+innerHeader+len(tc.data)+16 {
				t.Fatalf("sealed %d bytes for %d stored as is", len(sealed), len(tc.data))
			}
			got, _, err := c.Open(id, sealed)
			if err != nil || string(got) != string(tc.data) {
				t.Fatalf("open: %v, equal %v", err, string(got) == string(tc.data))
			}
		})
	}
}
