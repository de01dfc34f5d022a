package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/grim-reaper/grim/protocol/blob"
)

// The file is little-endian:
//
//	magic [8] "GRIMCCH1" | entries u64 | ids u64
//	entries × (key [16] | size i64 | mtime i64 | ctime i64 | inode u64 | device u64 |
//	           count u32 | count × id [32])
//	crc32c u32 of everything before it
//
// Fixed-width fields make decoding a bounds-checked walk with no allocation per entry: all
// ids land in one array that the entries slice.
const (
	magic       = "GRIMCCH1"
	headerSize  = len(magic) + 8 + 8
	entryFixed  = 16 + 5*8 + 4
	trailerSize = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errFormat = errors.New("bad cache file")

func encode(m map[key]entry) []byte {
	var ids int
	for _, e := range m {
		ids += len(e.ids)
	}
	size := headerSize + len(m)*entryFixed + ids*blob.IDSize + trailerSize
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(m)))
	b = binary.LittleEndian.AppendUint64(b, uint64(ids))
	for k, e := range m {
		b = append(b, k[:]...)
		b = appendState(b, e.state)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.ids)))
		for _, id := range e.ids {
			b = append(b, id[:]...)
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func appendState(b []byte, st FileState) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(st.Size))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.ModTime))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.ChangeTime))
	b = binary.LittleEndian.AppendUint64(b, st.Inode)
	return binary.LittleEndian.AppendUint64(b, st.Device)
}

func decode(data []byte) (map[key]entry, error) {
	if len(data) < headerSize+trailerSize || string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: no header", errFormat)
	}
	body := data[:len(data)-trailerSize]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errFormat)
	}
	n := binary.LittleEndian.Uint64(body[len(magic):])
	total := binary.LittleEndian.Uint64(body[len(magic)+8:])
	rest := body[headerSize:]
	// Both counts are bounded by the bytes present, so a forged header cannot make us
	// allocate more than the file's own size.
	if n > uint64(len(rest)/entryFixed) || total > uint64(len(rest)/blob.IDSize) {
		return nil, fmt.Errorf("%w: counts exceed file size", errFormat)
	}
	d := decoder{rest: rest, ids: make([]blob.ID, 0, total)}
	m := make(map[key]entry, n)
	for range n {
		k, e, err := d.entry()
		if err != nil {
			return nil, err
		}
		m[k] = e
	}
	if len(d.rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errFormat, len(d.rest))
	}
	return m, nil
}

type decoder struct {
	rest []byte
	ids  []blob.ID // shared backing array of every entry's ids
}

func (d *decoder) entry() (key, entry, error) {
	var k key
	if len(d.rest) < entryFixed {
		return k, entry{}, fmt.Errorf("%w: truncated entry", errFormat)
	}
	copy(k[:], d.rest)
	le := binary.LittleEndian
	p := d.rest[16:]
	st := FileState{
		Size:       int64(le.Uint64(p)),
		ModTime:    int64(le.Uint64(p[8:])),
		ChangeTime: int64(le.Uint64(p[16:])),
		Inode:      le.Uint64(p[24:]),
		Device:     le.Uint64(p[32:]),
	}
	count := int(le.Uint32(p[40:]))
	d.rest = d.rest[entryFixed:]
	if count > len(d.rest)/blob.IDSize || count > cap(d.ids)-len(d.ids) {
		return k, entry{}, fmt.Errorf("%w: truncated chunk list", errFormat)
	}
	start := len(d.ids)
	for i := range count {
		d.ids = append(d.ids, blob.ID(d.rest[i*blob.IDSize:(i+1)*blob.IDSize]))
	}
	d.rest = d.rest[count*blob.IDSize:]
	return k, entry{state: st, ids: d.ids[start:len(d.ids):len(d.ids)]}, nil
}
