package dataset

import (
	"bufio"
	"io"
	"math/rand/v2"
)

const (
	vocabularySize = 4096
	minWordLetters = 2
	maxWordLetters = 10
	minLineWords   = 4
	maxLineWords   = 14
	// zipfS and zipfV shape how often words recur: a few are very common, most are rare,
	// as in prose, which compresses about as well as real text does.
	zipfS = 1.1
	zipfV = 2
)

// syllables make words that look like words, so compressors see text-like statistics.
var syllables = []string{
	"ba", "be", "bi", "bo", "ca", "co", "da", "de", "di", "do", "el", "en", "er", "fa",
	"fi", "ga", "go", "ha", "he", "in", "is", "ka", "la", "le", "li", "lo", "ma", "me",
	"mi", "mo", "na", "ne", "no", "on", "or", "pa", "pe", "ra", "re", "ri", "ro", "sa",
	"se", "si", "so", "st", "ta", "te", "th", "ti", "to", "un", "va", "ve", "wa", "we",
}

// vocabulary is the fixed list of words text files are made of.
type vocabulary [][]byte

// newVocabulary makes the word list of a seed.
func newVocabulary(seed uint64) vocabulary {
	rng := rand.New(rand.NewPCG(seed, streamVocabulary))
	words := make(vocabulary, vocabularySize)
	for i := range words {
		letters := minWordLetters + rng.IntN(maxWordLetters-minWordLetters+1)
		var w []byte
		for len(w) < letters {
			w = append(w, syllables[rng.IntN(len(syllables))]...)
		}
		words[i] = w[:letters]
	}
	return words
}

// textSource produces lines of words from one content seed.
type textSource struct {
	words vocabulary
	rng   *rand.Rand
	zipf  *rand.Zipf
}

func (v vocabulary) source(key [32]byte) *textSource {
	rng := rand.New(rand.NewChaCha8(key))
	return &textSource{words: v, rng: rng,
		zipf: rand.NewZipf(rng, zipfS, zipfV, uint64(len(v)-1))}
}

// fill writes lines of words over all of p; the last line is cut where p ends.
func (s *textSource) fill(p []byte) {
	for n := 0; n < len(p); {
		words := minLineWords + s.rng.IntN(maxLineWords-minLineWords+1)
		for w := range words {
			if w > 0 {
				n += copy(p[n:], " ")
			}
			n += copy(p[n:], s.words[s.zipf.Uint64()])
		}
		n += copy(p[n:], "\n")
	}
}

// writeText writes size bytes of text made from key.
func (v vocabulary) writeText(w io.Writer, size int64, key [32]byte) error {
	buf := make([]byte, size)
	v.source(key).fill(buf)
	_, err := w.Write(buf)
	return err
}

// writeRandom writes size incompressible bytes made from key.
func writeRandom(w io.Writer, size int64, key [32]byte) error {
	src := rand.NewChaCha8(key)
	bw := bufio.NewWriterSize(w, 1*MiB)
	_, err := io.CopyN(bw, src, size)
	if err != nil {
		return err
	}
	return bw.Flush()
}
