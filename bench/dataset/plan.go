// Package dataset generates the benchmark's file trees: a first version made of many
// small compressible files, large incompressible ones and duplicates, and a second version
// that edits, adds and deletes a few percent of it. The same Spec yields the same names
// and bytes on every run, so results of different runs and tools compare.
package dataset

import (
	"fmt"
	"math/rand/v2"
)

// Byte units for sizes.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// DefaultSeed is the seed every run uses unless told otherwise.
const DefaultSeed uint64 = 0x6772696d2d62656e // "grim-ben"

// The shape of the first version. Small text files take textShare percent of the size
// and duplicates of some of them a tenth of that; large random files and a copy of the
// first of them take the rest.
const (
	textShare      = 20
	copyTextEvery  = 10 // every n-th text file is duplicated elsewhere
	minTextSize    = 1 * KiB
	maxTextSize    = 16 * KiB
	textPerDir     = 100
	dirsPerTopDir  = 10
	maxLargeLow    = 64 * MiB
	minLargeLow    = 1 * MiB
	largeLowDivide = 12 // large files are Size/12 to twice that, at most 64 to 128 MiB
)

// Streams separate the random sequences drawn from one seed, so that adding draws to one
// part of the plan never shifts another.
const (
	streamPlan uint64 = iota + 1
	streamVocabulary
	streamText
	streamRandom
	streamEdit      // which files the second version touches
	streamEditText  // new words in edited text files
	streamPatch     // new bytes in patched large files
	streamAddText   // added text files
	streamAddRandom // the added random file
)

// Spec says which data set to make.
type Spec struct {
	Seed uint64 `json:"seed,string"` // a string in JSON: it may not fit a double
	Size int64  `json:"size_bytes"`  // logical bytes of the first version, duplicates included
}

// Validate reports a spec that cannot make a sensible data set.
func (s Spec) Validate() error {
	if s.Size < 16*MiB {
		return fmt.Errorf("data set size %d: at least 16 MiB", s.Size)
	}
	return nil
}

// kind is how a planned file's content is made.
type kind uint8

const (
	kindText   kind = iota // words from the vocabulary, compressible
	kindRandom             // random bytes, incompressible
	kindCopy               // the same bytes as another planned file
)

// file is one planned regular file of the first version.
type file struct {
	rel  string // slash-separated path below the root
	kind kind
	size int64
	key  [32]byte // content seed of text and random files
	src  string   // the file a copy repeats
}

// plan is the first version of a data set, file by file.
type plan struct {
	text     []file // small compressible files
	large    []file // large incompressible files
	copies   []file // duplicates of some text and large files
	largeLow int64  // the lower bound of large file sizes
}

// newPlan lays out the first version of s. Text files take about a fifth of the size, a
// tenth of them are duplicated, and large files fill the rest, the first of them twice.
func newPlan(s Spec) *plan {
	rng := rand.New(rand.NewPCG(s.Seed, streamPlan))
	p := &plan{largeLow: min(max(s.Size/largeLowDivide, minLargeLow), maxLargeLow)}
	p.planText(rng, s.Seed, s.Size*textShare/100)
	p.planLarge(rng, s.Seed, s.Size-p.bytes())
	return p
}

// planText adds small text files until budget is spent, and copies of every
// copyTextEvery-th one.
func (p *plan) planText(rng *rand.Rand, seed uint64, budget int64) {
	for spent := int64(0); spent < budget; {
		i := len(p.text)
		f := file{
			rel:  textPath(i),
			kind: kindText,
			size: minTextSize + rng.Int64N(maxTextSize-minTextSize+1),
			key:  contentKey(seed, streamText, uint64(i)),
		}
		p.text = append(p.text, f)
		spent += f.size
		if i%copyTextEvery == 0 {
			p.copies = append(p.copies, file{rel: fmt.Sprintf("dup/text/note-%05d.txt", i),
				kind: kindCopy, size: f.size, src: f.rel})
			spent += f.size
		}
	}
}

// planLarge adds large random files of largeLow to twice that until budget is spent; the
// first is also copied under another name. The last file takes what is left, so it may
// be smaller.
func (p *plan) planLarge(rng *rand.Rand, seed uint64, budget int64) {
	for budget > 0 {
		i := len(p.large)
		size := min(p.largeLow+rng.Int64N(p.largeLow+1), budget)
		switch {
		case i == 0:
			size = min(size, budget/2)
		case budget-size < minLargeLow:
			size = budget // no sliver of a file at the end
		}
		f := file{rel: fmt.Sprintf("blobs/image-%02d.bin", i), kind: kindRandom, size: size,
			key: contentKey(seed, streamRandom, uint64(i))}
		p.large = append(p.large, f)
		budget -= size
		if i == 0 {
			p.copies = append(p.copies, file{rel: "dup/blobs/image-00-copy.bin",
				kind: kindCopy, size: size, src: f.rel})
			budget -= size
		}
	}
}

// bytes is the logical size of everything planned.
func (p *plan) bytes() int64 {
	var n int64
	for _, list := range [][]file{p.text, p.large, p.copies} {
		for _, f := range list {
			n += f.size
		}
	}
	return n
}

// textPath spreads text files over two levels of directories, textPerDir in each.
func textPath(i int) string {
	leaf := i / textPerDir
	return fmt.Sprintf("text/%02d/%03d/note-%05d.txt", leaf/dirsPerTopDir, leaf, i)
}

// contentKey derives the content seed of one file, so each file can be written on its
// own, in any order, with the same bytes.
func contentKey(seed, stream, index uint64) [32]byte {
	src := rand.NewPCG(seed^(stream*0x9e3779b97f4a7c15), index)
	var key [32]byte
	for i := 0; i < len(key); i += 8 {
		v := src.Uint64()
		for j := range 8 {
			key[i+j] = byte(v >> (8 * j))
		}
	}
	return key
}
