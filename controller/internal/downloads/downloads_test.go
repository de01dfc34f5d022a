package downloads

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"gjt1.abc_DEF-1.xyz", "gjt1.abc_DEF-1.xyz"},
		{"http://h:8080/downloads/install.sh", "http://h:8080/downloads/install.sh"},
		{"[::1]:8443", "[::1]:8443"},
		{"a b", "'a b'"},
		{"x;rm -rf /", "'x;rm -rf /'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := shellQuote(tt.in)
			assert.Equal(t, tt.want, got)
			out, err := exec.Command("sh", "-c", "printf %s "+got).Output()
			require.NoError(t, err)
			assert.Equal(t, tt.in, string(out), "the shell reads back the word")
		})
	}
}

func TestAgentEndpoint(t *testing.T) {
	tests := []struct {
		name, host string
		site       Site
		want       string
	}{
		{"unspecified v4", "grim.lan:8080", Site{AgentAddr: "0.0.0.0:8443"}, "grim.lan:8443"},
		{"unspecified v6", "[fd00::1]:8080", Site{AgentAddr: "[::]:8443"}, "[fd00::1]:8443"},
		{"empty host", "grim.lan", Site{AgentAddr: ":9443"}, "grim.lan:9443"},
		{"specific address", "grim.lan:8080", Site{AgentAddr: "10.1.2.3:8443"}, "10.1.2.3:8443"},
		{"public address", "grim.lan:8080",
			Site{AgentAddr: "0.0.0.0:8443", PublicAgentAddr: "agents.example:443"},
			"agents.example:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tt.host
			assert.Equal(t, tt.want, tt.site.AgentEndpoint(r))
		})
	}
}

// TestScriptParses runs the shell's parser over install.sh, and the script itself with
// bad arguments, which it must refuse before it touches anything.
func TestScriptParses(t *testing.T) {
	s := &Site{}
	script := filepath.Join(t.TempDir(), ScriptName)
	require.NoError(t, os.WriteFile(script, s.Script("http://grim.lan:8080"), 0o755))
	out, err := exec.Command("sh", "-n", script).CombinedOutput()
	require.NoError(t, err, "%s", out)

	for _, args := range [][]string{{}, {"--token", "t"}, {"--bogus"}} {
		cmd := exec.Command("sh", append([]string{script}, args...)...)
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "%v", args)
		assert.Equal(t, 2, cmd.ProcessState.ExitCode(), "%v: %s", args, out)
	}
}
