package blob

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

const benchChunk = 1 << 20

// incompressible returns random bytes; compressible returns text-like bytes that zstd
// shrinks to about a third.
func incompressible(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

func compressible(n int) []byte {
	words := []string{"grim ", "reaper ", "backup ", "chunk ", "tree ", "blob ", "seal ",
		"store ", "agent ", "controller ", "snapshot ", "restore ", "\n"}
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, byte('0'+r.IntN(10)))
	}
	return b[:n]
}

func benchCodec(b *testing.B, c Cipher, comp Compression) *Codec {
	b.Helper()
	keys, err := NewKeys()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := NewCodec(keys, c, comp)
	if err != nil {
		b.Fatal(err)
	}
	return codec
}

// BenchmarkID names a chunk of the average size and a small file's.
func BenchmarkID(b *testing.B) {
	c := benchCodec(b, "", "")
	for _, size := range []int{benchChunk, 4 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			data := incompressible(size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				c.ID(data)
			}
		})
	}
}

var sealCases = []struct {
	name string
	comp Compression
	data func(int) []byte
}{
	{"zstd/compressible", CompressionZstd, compressible},
	{"zstd/incompressible", CompressionZstd, incompressible},
	{"gzip/compressible", CompressionGzip, compressible},
	{"gzip/incompressible", CompressionGzip, incompressible},
	{"none/incompressible", CompressionNone, incompressible},
}

func BenchmarkSeal(b *testing.B) {
	for _, tc := range sealCases {
		b.Run(tc.name, func(b *testing.B) {
			c := benchCodec(b, "", tc.comp)
			data := tc.data(benchChunk)
			id := c.ID(data)
			b.SetBytes(benchChunk)
			for b.Loop() {
				if _, err := c.Seal(nil, id, KindData, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealParallel seals from every core at once through one codec, as the backup's
// sealers do; it shows whether sealing scales with cores.
func BenchmarkSealParallel(b *testing.B) {
	for _, tc := range sealCases[:2] {
		b.Run(tc.name, func(b *testing.B) {
			c := benchCodec(b, "", tc.comp)
			data := tc.data(benchChunk)
			id := c.ID(data)
			b.SetBytes(benchChunk)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Seal(nil, id, KindData, data); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkSealCipher(b *testing.B) {
	for _, ci := range []Cipher{CipherXChaCha20, CipherAESGCM} {
		b.Run(string(ci), func(b *testing.B) {
			c := benchCodec(b, ci, CompressionNone)
			data := incompressible(benchChunk)
			id := c.ID(data)
			b.SetBytes(benchChunk)
			for b.Loop() {
				if _, err := c.Seal(nil, id, KindData, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, tc := range sealCases {
		b.Run(tc.name, func(b *testing.B) {
			c := benchCodec(b, "", tc.comp)
			data := tc.data(benchChunk)
			id := c.ID(data)
			sealed, err := c.Seal(nil, id, KindData, data)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(benchChunk)
			for b.Loop() {
				if _, _, err := c.Open(id, sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
