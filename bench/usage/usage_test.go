package usage

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWatchSeesAnAllocationAndWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	w := Watch(map[string]int{"self": os.Getpid()})
	buf := make([]byte, 64<<20)
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for i := range buf {
			buf[i]++
		}
	}
	got := w.Stop()
	runtime.KeepAlive(buf)
	require.Contains(t, got, "self")
	assert.Greater(t, got["self"].PeakRSS, int64(64<<20))
	assert.Greater(t, got["self"].CPUSeconds, 0.1)
}

func TestStatusField(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	rss, err := statusField(os.Getpid(), "VmRSS:")
	require.NoError(t, err)
	assert.Positive(t, rss)
	_, err = statusField(os.Getpid(), "NoSuchField:")
	assert.Error(t, err)
}

func TestParseStat(t *testing.T) {
	line := []byte("4242 (a (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 " +
		"250 150 0 0 20 0 12 0 1000 100000 200 18446744073709551615\n")
	got, err := parseStat(line)
	require.NoError(t, err)
	assert.InDelta(t, 4.0, got, 1e-9, "(250 + 150) ticks at 100 Hz")

	_, err = parseStat([]byte("4242 (x) S 1 2"))
	assert.Error(t, err)
}
