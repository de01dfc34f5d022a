package restic

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLastSummary(t *testing.T) {
	out := []byte(`{"message_type":"status","percent_done":0.5}
not json at all
{"message_type":"summary","files_new":3,"files_changed":1,"data_added":12345,` +
		`"total_duration":1.5,"snapshot_id":"abc"}
`)
	s, err := lastSummary(out)
	require.NoError(t, err)
	assert.Equal(t, int64(12345), s.DataAdded)
	assert.Equal(t, 1.5, s.TotalDuration)
	assert.Equal(t, int64(3), s.FilesNew)

	_, err = lastSummary([]byte(`{"message_type":"status"}`))
	assert.Error(t, err)
}
