package blob

import "math"

// Data that looks random byte by byte (encrypted, already compressed, media) costs the
// compressor as much time as text does and comes out no smaller, so it is stored as it is.
// The test reads a sample spread over the data rather than all of it.
const (
	// sniffMin is the smallest input worth sampling; smaller inputs are simply compressed.
	sniffMin = 32 << 10
	// sniffWindows and sniffWindow shape the sample: windows spread evenly over the data.
	sniffWindows = 16
	sniffWindow  = 2 << 10
	// randomBits is the byte entropy, in bits per byte, above which data is taken as
	// incompressible. Random data measures about 7.99 over a 32 KiB sample; text 4 to 5;
	// hex and base64 of random data 4 and 6, which the entropy coder still shrinks.
	randomBits = 7.9
)

// worthCompressing reports whether plain may shrink under compression. It errs towards
// compressing: only data whose sample is almost perfectly random is passed over. Data
// whose bytes are uniformly spread but which repeats itself at long distance is the case
// it misjudges, and that costs space, never correctness.
func worthCompressing(plain []byte) bool {
	if len(plain) < sniffMin {
		return true
	}
	var counts [256]int
	step := (len(plain) - sniffWindow) / (sniffWindows - 1)
	for w := range sniffWindows {
		for _, b := range plain[w*step : w*step+sniffWindow] {
			counts[b]++
		}
	}
	return entropy(&counts, sniffWindows*sniffWindow) < randomBits
}

// entropy is the Shannon entropy, in bits per byte, of a byte histogram over n bytes.
func entropy(counts *[256]int, n int) float64 {
	var h float64
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}
