package restore

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
	"github.com/grim-reaper/grim/protocol/tree"
)

// The variables that make TestOwnerHelper restore ownerTree into a target and write its
// warnings to a report, as the process of chosen capabilities that the test starts.
const (
	helperTarget = "GRIM_RESTORE_OWNER_TARGET"
	helperReport = "GRIM_RESTORE_OWNER_REPORT"
)

// helperUID is the user the helper runs as: nobody, so that it owns nothing it restores.
const helperUID = 65534

// ownerTree holds paths of three owners, set-user-ID and set-group-ID ones among them.
func ownerTree() fsNode {
	return dir("/srv/data", 0o755,
		fsNode{name: "root-suid", data: []byte("#!/bin/sh\n"), mode: 0o4755},
		fsNode{name: "other", data: []byte("theirs"), mode: 0o640, uid: 1234, gid: 5678},
		fsNode{name: "other-suid", data: []byte("run me"), mode: 0o4750, uid: 1234, gid: 5678},
		fsNode{name: "shared", typ: tree.TypeDir, mode: 0o2770, uid: 1234, gid: 5678,
			children: []fsNode{
				{name: "sgid", data: []byte("group tool"), mode: 0o2755, gid: 5678},
			}},
		fsNode{name: "link", typ: tree.TypeSymlink, target: "other", uid: 1234, gid: 5678})
}

// TestOwnerHelper is the restore TestOwnersUnderCapabilities runs in a process of its
// own; it does nothing in a plain run.
func TestOwnerHelper(t *testing.T) {
	target := os.Getenv(helperTarget)
	if target == "" {
		return
	}
	s := newSnapshots(t)
	res, err := Run(context.Background(), s.options(s.build(ownerTree()), target))
	require.NoError(t, err)
	raw, err := json.Marshal(res.Warnings)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv(helperReport), raw, 0o600))
}

// TestOwnersUnderCapabilities restores files of several owners as a user that is not
// root, as the agent's unit runs it: with CAP_CHOWN every owner and every set-user-ID
// bit comes back; without it the files stay the restoring user's, and no set-user-ID or
// set-group-ID bit is left on a file that user now owns, each with a warning.
func TestOwnersUnderCapabilities(t *testing.T) {
	if os.Geteuid() != 0 {
		testkit.Unavailable(t, "needs root to start a process with chosen capabilities")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		testkit.Unavailable(t, "setpriv is not installed (util-linux)")
	}
	const unitCaps = "dac_read_search,dac_override,chown,fowner,fsetid"
	type owned struct {
		uid, gid uint32
		mode     fs.FileMode
	}
	tests := []struct {
		name     string
		caps     string
		want     map[string]owned
		warnings []string
	}{{
		name: "with CAP_CHOWN, as under the unit",
		caps: unitCaps,
		want: map[string]owned{
			".":           {0, 0, fs.ModeDir | 0o755},
			"root-suid":   {0, 0, fs.ModeSetuid | 0o755},
			"other":       {1234, 5678, 0o640},
			"other-suid":  {1234, 5678, fs.ModeSetuid | 0o750},
			"shared":      {1234, 5678, fs.ModeDir | fs.ModeSetgid | 0o770},
			"shared/sgid": {0, 5678, fs.ModeSetgid | 0o755},
			"link":        {1234, 5678, fs.ModeSymlink | 0o777},
		},
	}, {
		name: "without CAP_CHOWN",
		caps: "dac_read_search,dac_override,fowner,fsetid",
		want: map[string]owned{
			".":           {helperUID, helperUID, fs.ModeDir | 0o755},
			"root-suid":   {helperUID, helperUID, 0o755},
			"other":       {helperUID, helperUID, 0o640},
			"other-suid":  {helperUID, helperUID, 0o750},
			"shared":      {helperUID, helperUID, fs.ModeDir | 0o770},
			"shared/sgid": {helperUID, helperUID, 0o755},
			"link":        {helperUID, helperUID, fs.ModeSymlink | 0o777},
		},
		warnings: []string{"owners of 7 paths not restored: not permitted",
			"root-suid: set-user-ID", "other-suid: set-user-ID", "shared: set-user-ID",
			"shared/sgid: set-user-ID"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "target")
			warnings := restoreAs(t, tt.caps, target)
			for rel, want := range tt.want {
				p := filepath.Join(target, rel)
				st := statT(t, p)
				assert.Equal(t, []uint32{want.uid, want.gid}, []uint32{st.Uid, st.Gid},
					"owner of %s", rel)
				assertMode(t, p, want.mode)
			}
			assert.Equal(t, "run me", readFile(t, filepath.Join(target, "other-suid")))
			assert.Len(t, warnings, len(tt.warnings), "%q", warnings)
			for _, w := range tt.warnings {
				assert.True(t, containsPrefix(warnings, w), "no warning %q in %q", w, warnings)
			}
		})
	}
}

// restoreAs runs TestOwnerHelper as nobody with just caps, the way setpriv names them,
// and returns the restore's warnings.
func restoreAs(t *testing.T, caps, target string) []string {
	t.Helper()
	report := filepath.Join(t.TempDir(), "warnings.json")
	var plus []string
	for _, c := range strings.Split(caps, ",") {
		plus = append(plus, "+"+c)
	}
	set := strings.Join(plus, ",")
	cmd := exec.Command("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
		"--inh-caps", "-all,"+set, "--ambient-caps", set, "--bounding-set", "-all,"+set,
		"--no-new-privs", os.Args[0], "-test.run", "^TestOwnerHelper$", "-test.count", "1")
	cmd.Env = append(os.Environ(), helperTarget+"="+target, helperReport+"="+report)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	raw, err := os.ReadFile(report)
	require.NoError(t, err, "%s", out)
	var warnings []string
	require.NoError(t, json.Unmarshal(raw, &warnings))
	return warnings
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
