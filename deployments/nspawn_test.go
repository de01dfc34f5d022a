package deployments

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
)

// TestUnitsUnderSystemd boots a throwaway container of this machine under
// systemd-nspawn: a fresh tmpfs root, no network but loopback, this machine's /usr and
// dpkg database under overlays whose changes stay in the test's temporary directory, so
// that the packages install inside the container and never on this machine. There,
// under a live systemd (testdata/nspawn-driver.sh):
//
//   - the controller's package installs and its postinst starts grim-controller.service,
//     which must run as the user grim with no capability, a read-only system and its
//     system call filter;
//   - the install line that POST /api/agents/tokens gives (what the dashboard's "Add a
//     host" shows) runs as an operator pastes it, installs the agent from the
//     controller's /downloads/ and starts grim-agent.service, which must run as the user
//     grim-agent with exactly its five capabilities;
//   - that agent backs up files that only root may read, files of another user and
//     set-user-ID and set-group-ID files, and restores them: owners, modes and contents
//     must come back exactly;
//   - both units stop cleanly, and purging both packages leaves nothing of them behind.
func TestUnitsUnderSystemd(t *testing.T) {
	requirePackageTests(t, "dpkg-deb", "systemd-nspawn")
	probeNspawn(t)
	rel := packages(t)[newVersion]
	out := t.TempDir()
	root := containerState(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	testdata, err := filepath.Abs("testdata")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, "systemd-nspawn", nspawnArgs(
		"--overlay=/usr:"+filepath.Join(root, "usr")+":/usr",
		"--bind="+filepath.Join(root, "var")+":/var",
		"--overlay=/var/lib/dpkg:"+filepath.Join(root, "dpkg")+":/var/lib/dpkg",
		"--bind-ro="+testdata+":/opt/grim-test",
		"--bind-ro="+filepath.Dir(rel.ctlDeb)+":/opt/grim-pkgs",
		"--bind="+out+":/opt/grim-out",
		"-b", "--",
		// An empty /etc would make systemd ask for a locale and a time zone first.
		"systemd.firstboot=off",
		// Nor is there a network to wait for: both units wait for network-online.target,
		// which a private network never reaches.
		"systemd.mask=systemd-networkd-wait-online.service",
		"systemd.mask=ifupdown-wait-online.service",
		"systemd.run=/opt/grim-test/nspawn-driver.sh",
		"systemd.run_success_action=poweroff",
		"systemd.run_failure_action=poweroff",
	)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	began := time.Now()
	console, err := cmd.CombinedOutput()
	t.Logf("container ran for %s", time.Since(began))
	for _, f := range []string{"driver.log", "install.txt", "grim-controller-journal.txt",
		"grim-agent-journal.txt"} {
		b, _ := os.ReadFile(filepath.Join(out, f))
		t.Logf("%s:\n%s", f, tail(string(b), 80))
	}
	require.NoError(t, err, "systemd-nspawn: console:\n%s", tail(string(console), 60))
	require.FileExists(t, filepath.Join(out, "done"), "the driver did not finish; console:\n%s",
		tail(string(console), 60))

	o := containerOutput(out)
	t.Run("install line", func(t *testing.T) { checkInstallLine(t, o) })
	t.Run("controller unit", func(t *testing.T) {
		checkUnit(t, o, "grim-controller", "grim", "0000000000000000",
			"/var/lib/grim")
	})
	t.Run("agent unit", func(t *testing.T) {
		checkUnit(t, o, "grim-agent", agentUser, agentCapMask,
			"/var/lib/grim-agent", "/srv/grim-restore")
	})
	t.Run("restore keeps owners", func(t *testing.T) { checkRestored(t, o) })
	t.Run("purge", func(t *testing.T) {
		left, _ := os.ReadFile(o.path("after-purge.txt"))
		assert.Empty(t, string(left), "the purge left things behind")
	})
}

// agentCapMask is the agent unit's five capabilities as /proc/PID/status shows them:
// CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER and CAP_FSETID are bits 0
// to 4.
const agentCapMask = "000000000000001f"

// containerState makes the directories that hold what the container changes: the upper
// layers of its /usr and of its dpkg database, and its /var.
func containerState(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"usr", "dpkg", "var/lib", "var/log", "var/cache"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.Mkdir(filepath.Join(root, "var/tmp"), 0o1777))
	require.NoError(t, os.Chmod(filepath.Join(root, "var/tmp"), 0o1777))
	return root
}

// containerOutput is the directory the driver writes to.
type containerOutput string

func (o containerOutput) path(name string) string { return filepath.Join(string(o), name) }

func (o containerOutput) read(t *testing.T, name string) string {
	t.Helper()
	return string(readBytes(t, o.path(name)))
}

func (o containerOutput) json(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(readBytes(t, o.path(name)), &m), name)
	return m
}

// checkInstallLine checks that the driver ran the controller's install line unchanged
// and that it installed and enrolled the agent, which came online at the new release.
func checkInstallLine(t *testing.T, o containerOutput) {
	reply := o.json(t, "token.json")
	command, _ := reply["install_command"].(string)
	require.Contains(t, command, "curl -fsSL http://127.0.0.1:8080/downloads/install.sh | "+
		"sudo sh -s -- --controller 127.0.0.1:8443 --token "+reply["token"].(string))
	assert.Equal(t, command, strings.TrimSpace(o.read(t, "install-line")),
		"the driver ran another line than the API gave")
	assert.Contains(t, o.read(t, "install.txt"), "enrolled as ")

	list, _ := o.json(t, "agents.json")["agents"].([]any)
	require.Len(t, list, 1)
	a := list[0].(map[string]any)
	assert.Equal(t, "online", a["status"])
	assert.Equal(t, newVersion, a["version"])
	assert.Equal(t, "quic", a["transport"])

	token := reply["token"].(string)
	for _, j := range []string{"grim-agent-journal.txt", "grim-controller-journal.txt"} {
		assert.NotContains(t, o.read(t, j), token, "the join token reached %s", j)
	}
	assert.Contains(t, o.read(t, "grim-agent-journal.txt"), "connected to controller")
}

// checkUnit checks what systemd and the kernel said of a running unit: its user, its
// capabilities, no new privileges, a system call filter, a read-only root with only
// the writable paths, and a clean stop.
func checkUnit(t *testing.T, o containerOutput, unit, user, caps string, writable ...string) {
	show := o.read(t, unit+"-unit.txt")
	for _, want := range []string{"ActiveState=active", "User=" + user, "NoNewPrivileges=yes",
		"ProtectSystem=strict", "PrivateTmp=yes", "Result=success"} {
		assert.Contains(t, show, want+"\n")
	}
	uid := strings.TrimSpace(o.read(t, unit+"-uid"))
	require.NotEmpty(t, uid)
	status := statusFields(o.read(t, unit+"-status.txt"))
	assert.Equal(t, []string{uid, uid, uid, uid}, strings.Fields(status["Uid"]), "real, "+
		"effective, saved and file system user of %s", unit)
	assert.Equal(t, caps, status["CapEff"], "effective capabilities of %s", unit)
	assert.Equal(t, caps, status["CapBnd"], "bounding set of %s", unit)
	assert.Equal(t, "1", status["NoNewPrivs"])
	assert.Equal(t, "2", status["Seccomp"], "a system call filter")

	mounts := mountOptions(o.read(t, unit+"-mountinfo.txt"))
	for _, p := range []string{"/", "/usr", "/etc"} {
		if opts, ok := mounts[p]; ok {
			assert.Contains(t, strings.Split(opts, ","), "ro", "%s is writable to %s", p, unit)
		}
	}
	assert.Contains(t, strings.Split(mounts["/"], ","), "ro", "the root of %s", unit)
	for _, p := range writable {
		require.Contains(t, mounts, p, "%s is not mounted writable for %s", p, unit)
		assert.Contains(t, strings.Split(mounts[p], ","), "rw", "%s for %s", p, unit)
	}
}

// checkRestored compares what the agent's unit restored with its source: every path's
// type, owner, group and mode, set-user-ID and set-group-ID bits included, and every
// file's content.
func checkRestored(t *testing.T, o containerOutput) {
	backup, restore := o.json(t, "backup.json"), o.json(t, "restore.json")
	require.Equal(t, "completed", backup["status"], "backup %v", backup)
	require.Equal(t, "completed", restore["status"], "restore %v", restore)

	source := o.read(t, "source.txt")
	for _, want := range []string{"./root-only d 0 0 700", "./root-only/key f 0 0 600",
		"./root-suid f 0 0 4755", "./shared d 1234 2345 2770",
		"./shared/notes f 1234 2345 640", "./shared/tool f 1234 2345 6750",
		"./shared/link l 1234 2345 777"} {
		assert.Contains(t, source, want+"\n", "the driver's source")
	}
	assert.Equal(t, source, o.read(t, "restored.txt"))
	assert.NotContains(t, o.read(t, "grim-agent-journal.txt"), "not restored")
}

// statusFields parses the "Name:\tvalue" lines of /proc/PID/status.
func statusFields(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok {
			out[name] = strings.TrimSpace(value)
		}
	}
	return out
}

// mountOptions maps each mount point of a /proc/PID/mountinfo to its per-mount options;
// of several mounts on one point, the last (the visible one) wins.
func mountOptions(mountinfo string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 {
			out[f[4]] = f[5]
		}
	}
	return out
}

// nspawnArgs are the container's settings followed by extra.
func nspawnArgs(extra ...string) []string {
	return append([]string{"--quiet", "--volatile=yes", "--private-network", "--directory=/",
		"--register=no", "--keep-unit", fmt.Sprintf("--machine=grim-test-%d", os.Getpid())},
		extra...)
}

// probeNspawn ends the test (testkit.Unavailable), with what failed, where this machine
// cannot run a container.
func probeNspawn(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemd-nspawn", nspawnArgs("/usr/bin/true")...).
		CombinedOutput()
	if err != nil {
		testkit.Unavailable(t, "systemd-nspawn cannot start a container here (%v): %s", err, out)
	}
}

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
