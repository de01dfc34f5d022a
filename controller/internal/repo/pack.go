package repo

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

const (
	// packMagic ends every pack file.
	packMagic = "GRIMPACK"
	// trailerVersion is the version of the trailer layout.
	trailerVersion = 1
	// entrySize is one trailer entry: id, kind u8, offset u64, length u32, raw length u32.
	entrySize = blob.IDSize + 1 + 8 + 4 + 4
	// footerSize is the fixed end of the file: account id length u16, count u32,
	// version u8, the 8-byte magic.
	footerSize = 2 + 4 + 1 + 8
	// maxAccountIDLen bounds the account id that a trailer records.
	maxAccountIDLen = 1024
	// writeBuffer is how much of a pack is gathered before each write to its file.
	writeBuffer = 256 << 10
)

// ErrPackCorrupt means a pack file does not hash to its id or its trailer is malformed.
var ErrPackCorrupt = errors.New("pack corrupt")

// PackName is the storage name of the pack with the given id: packs/<first 2 hex>/<id>,
// so no directory holds more than 1/256 of the packs.
func PackName(id string) string {
	return "packs/" + id[:2] + "/" + id
}

// validPackID reports whether id is the hex form of a SHA-256 hash.
func validPackID(id string) error {
	if len(id) != 2*sha256.Size {
		return fmt.Errorf("pack id %q: want %d hex digits", id, 2*sha256.Size)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return fmt.Errorf("pack id %q: not hex", id)
	}
	return nil
}

// packFile is a pack being written to a temporary file. It hashes its bytes as they are
// written, so finishing it costs no second read.
type packFile struct {
	account string
	f       *os.File
	w       *bufio.Writer
	sum     hash.Hash
	size    int64 // bytes of blobs written
	entries []store.BlobEntry
	opened  time.Time
}

// newPackFile creates an empty pack of the account in dir.
func newPackFile(dir, account string, now time.Time) (*packFile, error) {
	f, err := os.CreateTemp(dir, "pack-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create pack file: %w", err)
	}
	return &packFile{
		account: account, f: f, w: bufio.NewWriterSize(f, writeBuffer), sum: sha256.New(),
		opened: now,
	}, nil
}

// add appends one sealed blob.
func (p *packFile) add(id blob.ID, kind blob.Kind, rawLen int, sealed []byte) error {
	if _, err := p.w.Write(sealed); err != nil {
		return fmt.Errorf("write pack file: %w", err)
	}
	p.sum.Write(sealed)
	p.entries = append(p.entries, store.BlobEntry{
		ID: id, Kind: kind, Offset: p.size, Length: len(sealed), RawLength: rawLen,
	})
	p.size += int64(len(sealed))
	return nil
}

// close writes the trailer and closes the file, and returns the pack's id and length. The
// file is not synced: storage.PutFile does that before the pack gets its name.
func (p *packFile) close() (id string, size int64, err error) {
	trailer := encodeTrailer(p.account, p.entries)
	if _, err := p.w.Write(trailer); err != nil {
		_ = p.f.Close()
		return "", 0, fmt.Errorf("write pack trailer: %w", err)
	}
	p.sum.Write(trailer)
	if err := p.w.Flush(); err != nil {
		_ = p.f.Close()
		return "", 0, fmt.Errorf("write pack file: %w", err)
	}
	if err := p.f.Close(); err != nil {
		return "", 0, fmt.Errorf("close pack file: %w", err)
	}
	return hex.EncodeToString(p.sum.Sum(nil)), p.size + int64(len(trailer)), nil
}

// discard closes and removes the file of a pack that will not be stored.
func (p *packFile) discard() {
	_ = p.f.Close()
	_ = os.Remove(p.f.Name())
}

// encodeTrailer lays out the entries, the account id, then the footer. The account id
// must be at most maxAccountIDLen bytes long.
func encodeTrailer(account string, entries []store.BlobEntry) []byte {
	out := make([]byte, 0, len(entries)*entrySize+len(account)+footerSize)
	for _, e := range entries {
		out = append(out, e.ID[:]...)
		out = append(out, byte(e.Kind))
		out = binary.BigEndian.AppendUint64(out, uint64(e.Offset))
		out = binary.BigEndian.AppendUint32(out, uint32(e.Length))
		out = binary.BigEndian.AppendUint32(out, uint32(e.RawLength))
	}
	out = append(out, account...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(account)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(entries)))
	out = append(out, trailerVersion)
	return append(out, packMagic...)
}

// trailerSize reads the footer, the last footerSize bytes of a pack of packSize bytes, and
// returns the length of the whole trailer.
func trailerSize(footer []byte, packSize int64) (int64, error) {
	if len(footer) != footerSize || string(footer[7:]) != packMagic {
		return 0, fmt.Errorf("%w: no pack footer", ErrPackCorrupt)
	}
	if footer[6] != trailerVersion {
		return 0, fmt.Errorf("%w: unknown trailer version %d", ErrPackCorrupt, footer[6])
	}
	n := int64(footerSize) + int64(binary.BigEndian.Uint16(footer)) +
		int64(binary.BigEndian.Uint32(footer[2:]))*entrySize
	if n > packSize {
		return 0, fmt.Errorf("%w: trailer of %d bytes in a pack of %d", ErrPackCorrupt, n,
			packSize)
	}
	return n, nil
}

// decodeTrailer parses the trailer of a pack of packSize bytes and returns the pack's
// account and entries. The entries must cover the bytes before the trailer exactly, back
// to back in order, as the writer lays them out.
func decodeTrailer(trailer []byte, packSize int64) (string, []store.BlobEntry, error) {
	footer := trailer[max(0, len(trailer)-footerSize):]
	n, err := trailerSize(footer, packSize)
	if err != nil {
		return "", nil, err
	}
	if int64(len(trailer)) != n {
		return "", nil, fmt.Errorf("%w: trailer length %d, footer says %d", ErrPackCorrupt,
			len(trailer), n)
	}
	accountLen := int(binary.BigEndian.Uint16(footer))
	count := int(binary.BigEndian.Uint32(footer[2:]))
	account := string(trailer[count*entrySize : count*entrySize+accountLen])
	if account == "" {
		return "", nil, fmt.Errorf("%w: trailer names no account", ErrPackCorrupt)
	}
	entries, err := decodeEntries(trailer[:count*entrySize], packSize-n)
	if err != nil {
		return "", nil, err
	}
	return account, entries, nil
}

// decodeEntries parses the trailer entries of a pack whose blobs take dataSize bytes.
func decodeEntries(b []byte, dataSize int64) ([]store.BlobEntry, error) {
	entries := make([]store.BlobEntry, len(b)/entrySize)
	var next int64
	for i := range entries {
		entries[i] = decodeEntry(b[i*entrySize : (i+1)*entrySize])
		e := entries[i]
		if e.Offset != next || e.Length <= 0 || e.RawLength < 0 {
			return nil, fmt.Errorf("%w: trailer entry %d out of place", ErrPackCorrupt, i)
		}
		next += int64(e.Length)
	}
	if next != dataSize {
		return nil, fmt.Errorf("%w: trailer covers %d bytes of %d", ErrPackCorrupt, next,
			dataSize)
	}
	return entries, nil
}

// decodeEntry parses one trailer entry of entrySize bytes.
func decodeEntry(b []byte) store.BlobEntry {
	var e store.BlobEntry
	copy(e.ID[:], b)
	b = b[blob.IDSize:]
	e.Kind = blob.Kind(b[0])
	e.Offset = int64(binary.BigEndian.Uint64(b[1:]))
	e.Length = int(int32(binary.BigEndian.Uint32(b[9:])))
	e.RawLength = int(int32(binary.BigEndian.Uint32(b[13:])))
	return e
}
