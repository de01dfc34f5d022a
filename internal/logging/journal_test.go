package logging

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalFormat(t *testing.T) {
	var out bytes.Buffer
	log, err := New(&out, "debug", "journal")
	require.NoError(t, err)
	log = log.With("component", "link")
	log.Debug("dialing", "addr", "c:8443")
	log.Info("connected")
	log.Warn("slow")
	log.WithGroup("job").Error("failed", "id", "j1")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	want := []string{
		`<7>level=DEBUG msg=dialing component=link addr=c:8443`,
		`<6>level=INFO msg=connected component=link`,
		`<4>level=WARN msg=slow component=link`,
		`<3>level=ERROR msg=failed component=link job.id=j1`,
	}
	assert.Equal(t, want, lines)
}

func TestNewRefusesUnknownFormat(t *testing.T) {
	_, err := New(&bytes.Buffer{}, "info", "xml")
	require.Error(t, err)
}
