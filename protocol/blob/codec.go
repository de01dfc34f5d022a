package blob

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/zeebo/blake3"
	"golang.org/x/crypto/chacha20poly1305"
)

// Cipher names an AEAD.
type Cipher string

// The AEADs a blob can be sealed with. XChaCha20-Poly1305 is the default: its 24-byte
// random nonces never collide in practice, however many blobs one key seals.
const (
	CipherXChaCha20 Cipher = "xchacha20-poly1305"
	CipherAESGCM    Cipher = "aes-256-gcm"
)

// Compression names how a blob's data is compressed before sealing.
type Compression string

// The compressions. Data that does not shrink is stored uncompressed whatever was asked.
const (
	CompressionZstd Compression = "zstd"
	CompressionGzip Compression = "gzip"
	CompressionNone Compression = "none"
)

const (
	formatVersion = 1
	cipherIDX     = 1
	cipherIDGCM   = 2
	compIDNone    = 0
	compIDZstd    = 1
	compIDGzip    = 2
	// MaxPlainSize caps what Open inflates, so a hostile blob cannot exhaust memory.
	MaxPlainSize = 16 << 20
)

// ErrCorrupt means a blob failed to decrypt, decompress or match its id.
var ErrCorrupt = errors.New("blob corrupt")

// Codec names, seals and opens blobs with one account's keys. It is safe for concurrent use.
type Codec struct {
	mac    []byte
	xchach cipher.AEAD
	gcm    cipher.AEAD
	seal   Cipher
	comp   Compression
	zenc   *zstd.Encoder
	zdec   *zstd.Decoder
	// hashers holds keyed BLAKE3 hashers for ID. A fresh one is some 11 KiB to allocate
	// and clear, more than hashing a small file costs; a used one is reset to the key.
	hashers sync.Pool
}

// NewCodec returns a codec that seals with the given cipher and compression ("" picks
// XChaCha20-Poly1305 and zstd) and opens blobs sealed with any of them.
func NewCodec(k *Keys, c Cipher, comp Compression) (*Codec, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if c == "" {
		c = CipherXChaCha20
	}
	if comp == "" {
		comp = CompressionZstd
	}
	if c != CipherXChaCha20 && c != CipherAESGCM {
		return nil, fmt.Errorf("unknown cipher %q", c)
	}
	if comp != CompressionZstd && comp != CompressionGzip && comp != CompressionNone {
		return nil, fmt.Errorf("unknown compression %q", comp)
	}
	x, err := chacha20poly1305.NewX(k.Encryption)
	if err != nil {
		return nil, fmt.Errorf("xchacha20: %w", err)
	}
	block, err := aes.NewCipher(k.Encryption)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	// EncodeAll holds one of the encoder's inner encoders for the whole call, so their
	// number is how many goroutines can compress at once.
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		// The AEAD's tag and the keyed hash already catch any damage; a CRC adds nothing.
		zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(MaxPlainSize))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	codec := &Codec{mac: bytes.Clone(k.MAC), xchach: x, gcm: g, seal: c, comp: comp,
		zenc: zenc, zdec: zdec}
	codec.hashers.New = func() any {
		h, err := blake3.NewKeyed(codec.mac)
		if err != nil {
			// The key size is checked by Validate; this cannot happen.
			panic(fmt.Sprintf("blob: keyed hash: %v", err))
		}
		return h
	}
	return codec, nil
}

// ID names plaintext data: BLAKE3 keyed with the account's MAC key.
func (c *Codec) ID(data []byte) ID {
	h := c.hashers.Get().(*blake3.Hasher)
	h.Reset()
	_, _ = h.Write(data)
	var id ID
	h.Sum(id[:0])
	c.hashers.Put(h)
	return id
}

// Seal compresses and encrypts plain, which must be the data that id names, and appends
// the sealed blob to dst. It makes at most one allocation for the result: the payload is
// compressed straight after the header and encrypted where it lies.
func (c *Codec) Seal(dst []byte, id ID, kind Kind, plain []byte) ([]byte, error) {
	aead, cid := c.xchach, byte(cipherIDX)
	if c.seal == CipherAESGCM {
		aead, cid = c.gcm, cipherIDGCM
	}
	start := len(dst)
	head := 2 + aead.NonceSize()
	// Room for the header, the inner header, the payload stored as is and the tag; a
	// payload that compresses fits in it too.
	dst = slices.Grow(dst, head+innerHeader+len(plain)+aead.Overhead())
	dst = append(dst, formatVersion, cid)
	dst = dst[:start+head]
	nonce := dst[start+2 : start+head]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	inner := len(dst)
	dst = append(dst, byte(kind), compIDNone)
	dst, err := c.compress(dst, plain)
	if err != nil {
		return nil, err
	}
	// The output overlaps the plaintext exactly, which every AEAD allows.
	return aead.Seal(dst[:inner], nonce, dst[inner:], id[:]), nil
}

// innerHeader is the kind and compression bytes that precede the payload under the seal.
const innerHeader = 2

// compress appends plain to dst, compressed when that is asked for, worth trying and
// shrinks it, and records in dst's last byte which compression was used.
func (c *Codec) compress(dst, plain []byte) ([]byte, error) {
	flag := len(dst) - 1
	base := len(dst)
	var out []byte
	var id byte
	switch {
	case c.comp == CompressionNone || !worthCompressing(plain):
	case c.comp == CompressionZstd:
		out, id = c.zenc.EncodeAll(plain, dst), compIDZstd
	case c.comp == CompressionGzip:
		buf := bytes.NewBuffer(dst)
		w := gzip.NewWriter(buf)
		if _, err := w.Write(plain); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		out, id = buf.Bytes(), compIDGzip
	}
	if out != nil && len(out)-base < len(plain) {
		out[flag] = id
		return out, nil
	}
	// Stored as is. Should a compressor have grown dst into a new array, dst itself still
	// holds the headers, and its own capacity was sized for this.
	dst[flag] = compIDNone
	return append(dst[:base], plain...), nil
}

// Open decrypts and decompresses a sealed blob and checks that its plaintext hashes to
// id. Any failure is ErrCorrupt (wrapped with the reason). sealed is left as it was.
func (c *Codec) Open(id ID, sealed []byte) ([]byte, Kind, error) {
	plain, kind, _, err := c.open(id, sealed, false, nil)
	return plain, kind, err
}

// Opener opens one blob after another with buffers it reuses, for a reader of many blobs
// that is done with each before it opens the next. It is not safe for concurrent use.
type Opener struct {
	c   *Codec
	buf []byte // where compressed blobs are inflated
}

// NewOpener returns an Opener that opens blobs with c.
func (c *Codec) NewOpener() *Opener { return &Opener{c: c} }

// Open is Codec.Open for a caller that has no further use for sealed: it decrypts sealed
// where it lies, overwriting it, and inflates a compressed blob into a buffer of its own.
// The plaintext aliases sealed or that buffer, so it is valid until the next Open and
// only as long as sealed is not reused.
func (o *Opener) Open(id ID, sealed []byte) ([]byte, Kind, error) {
	plain, kind, buf, err := o.c.open(id, sealed, true, o.buf)
	o.buf = buf
	return plain, kind, err
}

// open is Open, decrypting in place when inPlace is set and inflating into buf's storage;
// it returns the buffer for the next call.
func (c *Codec) open(id ID, sealed []byte, inPlace bool, buf []byte) ([]byte, Kind, []byte,
	error) {
	if len(sealed) < 2 || sealed[0] != formatVersion {
		return nil, 0, buf, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	var aead cipher.AEAD
	switch sealed[1] {
	case cipherIDX:
		aead = c.xchach
	case cipherIDGCM:
		aead = c.gcm
	default:
		return nil, 0, buf, fmt.Errorf("%w: unknown cipher", ErrCorrupt)
	}
	rest := sealed[2:]
	if len(rest) < aead.NonceSize()+aead.Overhead()+2 {
		return nil, 0, buf, fmt.Errorf("%w: too short", ErrCorrupt)
	}
	nonce, ct := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	var dst []byte
	if inPlace {
		dst = ct[:0]
	}
	inner, err := aead.Open(dst, nonce, ct, id[:])
	if err != nil {
		return nil, 0, buf, fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	kind := Kind(inner[0])
	plain, err := c.decompress(inner[1], inner[2:], buf)
	if err != nil {
		return nil, 0, buf, err
	}
	if inner[1] != compIDNone {
		buf = plain[:0]
	}
	got := c.ID(plain)
	if subtle.ConstantTimeCompare(got[:], id[:]) != 1 {
		return nil, 0, buf, fmt.Errorf("%w: hash mismatch", ErrCorrupt)
	}
	return plain, kind, buf, nil
}

// decompress inflates data as compID says, into buf's storage when it is zstd.
func (c *Codec) decompress(compID byte, data, buf []byte) ([]byte, error) {
	switch compID {
	case compIDNone:
		return data, nil
	case compIDZstd:
		out, err := c.zdec.DecodeAll(data, buf[:0])
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
		}
		return out, nil
	case compIDGzip:
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
		}
		out, err := io.ReadAll(io.LimitReader(r, MaxPlainSize+1))
		if err != nil || len(out) > MaxPlainSize {
			return nil, fmt.Errorf("%w: gzip: bad or oversized stream", ErrCorrupt)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: unknown compression", ErrCorrupt)
	}
}
