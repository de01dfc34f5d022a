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
)

// TestAgentUnitUnderSystemd boots a throwaway container of this machine under
// systemd-nspawn (a fresh tmpfs root with this machine's /usr, where the agent package is
// installed, and no network but loopback). Inside, the package's postinst runs under a
// live systemd, a controller starts, and systemd starts the installed grim-agent unit
// with a join token in /etc/default/grim-agent: the agent must enrol from inside its
// sandbox and complete a backup of files only root may read.
func TestAgentUnitUnderSystemd(t *testing.T) {
	requirePackageTests(t, "dpkg", "dpkg-deb", "systemd-nspawn")
	requireAgentAbsent(t)
	probeNspawn(t)
	rel := packages(t)[newVersion]
	t.Cleanup(func() { purge(t) })
	run(t, "dpkg", "-i", rel.agentDeb)

	in, out := t.TempDir(), t.TempDir()
	run(t, "dpkg-deb", "-e", rel.agentDeb, filepath.Join(in, "control"))
	require.NoError(t, os.WriteFile(filepath.Join(in, "driver.sh"), []byte(driverScript), 0o755))
	require.NoError(t, os.Chmod(in, 0o755))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "systemd-nspawn", nspawnArgs(
		"--bind-ro="+in+":/opt/grim-test",
		"--bind-ro="+rel.ctlRoot+":/opt/grim-controller",
		"--bind="+out+":/opt/grim-out",
		"-b", "--",
		// An empty /etc would make systemd ask for a locale and a time zone first.
		"systemd.firstboot=off",
		// Nor is there a network to wait for: the agent's unit waits for
		// network-online.target, which a private network never reaches.
		"systemd.mask=systemd-networkd-wait-online.service",
		"systemd.mask=ifupdown-wait-online.service",
		"systemd.run=/opt/grim-test/driver.sh",
		"systemd.run_success_action=poweroff",
		"systemd.run_failure_action=poweroff",
	)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	began := time.Now()
	console, err := cmd.CombinedOutput()
	t.Logf("container ran from %.3f for %s", float64(began.UnixNano())/1e9, time.Since(began))
	driverLog, _ := os.ReadFile(filepath.Join(out, "driver.log"))
	journal, _ := os.ReadFile(filepath.Join(out, "agent-journal.txt"))
	t.Logf("driver:\n%s\nagent journal:\n%s", driverLog, journal)
	require.NoError(t, err, "systemd-nspawn: console:\n%s", tail(string(console), 60))
	require.FileExists(t, filepath.Join(out, "done"), "the driver did not finish; console:\n%s",
		tail(string(console), 60))

	var backup map[string]any
	require.NoError(t, json.Unmarshal(readBytes(t, filepath.Join(out, "backup.json")), &backup))
	assert.Equal(t, "completed", backup["status"], "backup %v", backup)
	assert.EqualValues(t, 2, backup["files"], "backup %v", backup)

	var agents map[string]any
	require.NoError(t, json.Unmarshal(readBytes(t, filepath.Join(out, "agents.json")), &agents))
	list, _ := agents["agents"].([]any)
	require.Len(t, list, 1)
	a := list[0].(map[string]any)
	assert.Equal(t, "online", a["status"])
	assert.Equal(t, newVersion, a["version"])

	show := string(readBytes(t, filepath.Join(out, "agent-unit.txt")))
	assert.Contains(t, show, "ActiveState=active")
	assert.Contains(t, show, "User=grim-agent")
	assert.Contains(t, show, "Result=success", "the agent stops cleanly on SIGTERM")
	assert.Contains(t, string(journal), "agent enrolled")
	token := strings.TrimSpace(string(readBytes(t, filepath.Join(out, "token"))))
	require.NotEmpty(t, token)
	assert.NotContains(t, string(journal), token, "the join token reached the journal")
}

// nspawnArgs are the container's settings followed by extra.
func nspawnArgs(extra ...string) []string {
	return append([]string{"--quiet", "--volatile=yes", "--private-network", "--directory=/",
		"--register=no", "--keep-unit", fmt.Sprintf("--machine=grim-test-%d", os.Getpid())},
		extra...)
}

// probeNspawn skips, with what failed, where this machine cannot run a container.
func probeNspawn(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemd-nspawn", nspawnArgs("/usr/bin/true")...).
		CombinedOutput()
	if err != nil {
		t.Skipf("systemd-nspawn cannot start a container here (%v): %s", err, out)
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

// driverScript runs inside the container as the boot's systemd.run command.
const driverScript = `#!/bin/sh
set -eu
out=/opt/grim-out
exec >"$out/driver.log" 2>&1
set -x
ctl=/opt/grim-controller/usr/bin
finish() {
  journalctl --no-pager -o cat -u grim-agent.service >"$out/agent-journal.txt" 2>&1 || true
}
trap finish EXIT

# The package's own postinst, as dpkg runs it, but under a running systemd.
/opt/grim-test/control/postinst configure
test -f /etc/grim/agent.yaml
systemctl is-enabled grim-agent.service

key=grim_test_bootstrap_key_0123456789
systemd-run --unit=grim-test-controller --setenv=GRIM_BOOTSTRAP_API_KEY=$key \
  "$ctl/grim-controller" serve --config= --data-dir /var/lib/grim-test-controller \
  --http-addr 127.0.0.1:8080 --agent-addr 127.0.0.1:8443 --heartbeat 1s
export GRIM_URL=http://127.0.0.1:8080 GRIM_API_KEY=$key
i=0
until curl -fsS "$GRIM_URL/healthz" >/dev/null 2>&1; do
  i=$((i+1)); [ "$i" -lt 150 ] || exit 1; sleep 0.2
done
set +x
token=$("$ctl/grim" agents token)
printf '%s\n' "$token" >"$out/token"
install -d -m 0755 /etc/default
printf 'GRIM_AGENT_CONTROLLER=127.0.0.1:8443\nGRIM_AGENT_TOKEN=%s\n' "$token" \
  >/etc/default/grim-agent
set -x
chmod 0600 /etc/default/grim-agent
systemctl start grim-agent.service

i=0
until "$ctl/grim" --json agents list | grep -q '"status": "online"'; do
  i=$((i+1)); [ "$i" -lt 150 ] || exit 1; sleep 0.2
done
"$ctl/grim" --json agents list >"$out/agents.json"

install -d -m 0700 /srv/data
printf 'secret\n' >/srv/data/key; chmod 0600 /srv/data/key
printf 'notes\n' >/srv/data/notes; chmod 0600 /srv/data/notes
"$ctl/grim" --json backup create --wait /srv/data >"$out/backup.json"
systemctl show grim-agent.service -p ActiveState -p SubState -p User \
  >"$out/agent-unit.txt"
systemctl stop grim-agent.service
systemctl show grim-agent.service -p ExecMainStatus -p Result >>"$out/agent-unit.txt"
systemctl stop grim-test-controller.service
touch "$out/done"
`
