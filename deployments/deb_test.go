package deployments

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
)

// Where the agent package puts things on the host.
const (
	agentBin    = "/usr/bin/grim-agent"
	agentUnit   = "/usr/lib/systemd/system/grim-agent.service"
	agentConfig = "/etc/grim/agent.yaml"
	agentState  = "/var/lib/grim-agent"
	agentUser   = "grim-agent"
	unitLink    = "/etc/systemd/system/multi-user.target.wants/grim-agent.service"
)

// The capabilities the agent's unit grants, as setpriv names them.
const agentCaps = "+dac_read_search,+dac_override,+chown,+fowner,+fsetid"

// TestDebLifecycle installs the agent's .deb on this machine with the install command a
// controller gives, enrols it, backs up with it, upgrades the controller and then the
// agent with the state kept, and purges it. systemd is not running here, which is the
// case the maintainer scripts must also cope with.
func TestDebLifecycle(t *testing.T) {
	requirePackageTests(t, "dpkg", "dpkg-deb", "systemd-analyze", "setpriv", "curl")
	requireAgentAbsent(t)
	rels := packages(t)
	oldRel, newRel := rels[oldVersion], rels[newVersion]
	t.Cleanup(func() { purge(t) })

	t.Run("agent package contents", func(t *testing.T) { checkAgentDeb(t, oldRel.agentDeb) })
	t.Run("controller package contents", func(t *testing.T) { checkControllerDeb(t, oldRel) })
	t.Run("agent rpm contents", func(t *testing.T) { checkAgentRPM(t, oldRel.agentRPM) })

	c := startController(t, oldRel)
	installWithCommand(t, c)
	checkInstalled(t, oldVersion)
	t.Run("units", checkUnits)

	src := secretTree(t)
	// A file the agent cannot read is only a warning, so count what it read: both
	// root-only files, through its capabilities.
	backupSecrets := func() {
		t.Helper()
		b := c.backup(t, src)
		assert.EqualValues(t, 2, b["files"], "backup %v", b)
	}
	agent := startInstalledAgent(t)
	c.agentSeen(t, oldVersion)
	backupSecrets()

	// The controller goes first, as an operator upgrades: an agent one minor release
	// behind keeps working and is listed as outdated.
	c.proc.stop()
	c.run(t, newRel)
	a := c.agentSeen(t, oldVersion)
	assert.Equal(t, true, a["outdated"], "agent %v", a)
	backupSecrets()

	// Then the agent: the new package keeps its identity and settings.
	idFile := filepath.Join(agentState, "agent.json")
	idBefore, cfgBefore := digest(t, idFile), readFile(t, agentConfig)
	agent.stop()
	run(t, "dpkg", "-i", newRel.agentDeb)
	checkInstalled(t, newVersion)
	assert.Equal(t, idBefore, digest(t, idFile))
	assert.Equal(t, cfgBefore, readFile(t, agentConfig))
	agent = startInstalledAgent(t)
	a = c.agentSeen(t, newVersion)
	assert.Equal(t, false, a["outdated"], "agent %v", a)
	backupSecrets()
	agent.stop()

	run(t, "dpkg", "--purge", "grim-agent")
	for _, p := range []string{agentBin, agentUnit, agentConfig, agentState, unitLink} {
		_, err := os.Lstat(p)
		assert.True(t, os.IsNotExist(err), "%s is left after purge", p)
	}
	_, err := runErr("getent", "passwd", agentUser)
	assert.Error(t, err, "the user %s is left after purge", agentUser)
}

// requireAgentAbsent ends the test (testkit.Unavailable) on a machine where an agent is
// installed or left behind: the test installs and purges the real package and must not
// destroy someone's agent.
func requireAgentAbsent(t *testing.T) {
	t.Helper()
	out, _ := runErr("dpkg-query", "-W", "-f=${Status}", "grim-agent")
	if strings.Contains(out, "installed") {
		testkit.Unavailable(t, "grim-agent is installed on this machine; the test leaves it alone")
	}
	for _, p := range []string{agentState, agentConfig} {
		if _, err := os.Stat(p); err == nil {
			testkit.Unavailable(t, "%s exists on this machine; the test leaves it alone", p)
		}
	}
}

// purge removes the package and its state whatever state the test left it in.
func purge(t *testing.T) {
	if out, err := runErr("dpkg", "--purge", "grim-agent"); err != nil {
		t.Logf("cleanup: dpkg --purge grim-agent: %v\n%s", err, out)
	}
}

func checkAgentDeb(t *testing.T, deb string) {
	contents := run(t, "dpkg-deb", "-c", deb)
	for _, p := range []string{"./usr/bin/grim-agent",
		"./usr/lib/systemd/system/grim-agent.service",
		"./usr/share/grim/agent.yaml", "./usr/lib/sysusers.d/grim-agent.conf"} {
		assert.Contains(t, contents, " "+p+"\n")
	}
	assert.Regexp(t, `-rwxr-xr-x root/root .* \./usr/bin/grim-agent\n`, contents)
	info := run(t, "dpkg-deb", "-I", deb)
	for _, s := range []string{"Package: grim-agent", "Architecture: ", "postinst", "prerm",
		"postrm"} {
		assert.Contains(t, info, s)
	}
	dir := t.TempDir()
	run(t, "dpkg-deb", "-e", deb, dir)
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		p := filepath.Join(dir, script)
		run(t, "sh", "-n", p)
		body := readFile(t, p)
		assert.True(t, strings.HasPrefix(body, "#!/bin/sh\n"), script)
		assert.Contains(t, body, "systemd_running", script)
	}
	assert.Contains(t, readFile(t, filepath.Join(dir, "postrm")), "purge) purge_state")
}

// checkAgentRPM reads the rpm with rpm itself where it is installed; nothing here installs
// it, since this machine is not rpm-based.
func checkAgentRPM(t *testing.T, rpm string) {
	if _, err := exec.LookPath("rpm"); err != nil {
		testkit.Unavailable(t, "rpm is not installed: apt-get install rpm")
	}
	files := run(t, "rpm", "-qpl", rpm)
	for _, p := range []string{"/usr/bin/grim-agent", "/usr/lib/systemd/system/grim-agent.service",
		"/usr/share/grim/agent.yaml", "/usr/lib/sysusers.d/grim-agent.conf"} {
		assert.Contains(t, files, p+"\n")
	}
	scripts := run(t, "rpm", "-qp", "--scripts", rpm)
	for _, s := range []string{"postinstall scriptlet", "preuninstall scriptlet",
		"postuninstall scriptlet", "remove|0) stop_unit; disable_unit", "2) old=upgrade"} {
		assert.Contains(t, scripts, s)
	}
}

func checkControllerDeb(t *testing.T, rel *build) {
	contents := run(t, "dpkg-deb", "-c", rel.ctlDeb)
	for _, p := range []string{"./usr/bin/grim-controller", "./usr/bin/grim",
		"./usr/lib/systemd/system/grim-controller.service", "./usr/share/grim/controller.yaml",
		"./usr/share/grim/downloads/grim-agent_" + debArch() + ".deb"} {
		assert.Contains(t, contents, " "+p+"\n")
	}
	// Both programs of the package report the release and commit they were built from.
	for _, prog := range []string{"grim-controller", "grim"} {
		out := run(t, filepath.Join(rel.ctlRoot, "usr/bin", prog), "version")
		assert.Contains(t, out, prog+" "+rel.version+" (commit test"+rel.version+")")
	}
	// The agent package the controller serves is the one built with it.
	assert.Equal(t, digest(t, rel.agentDeb),
		digest(t, filepath.Join(rel.downloads, "grim-agent_"+debArch()+".deb")))
}

// installWithCommand runs the install command a join token comes with, unchanged, as an
// operator pastes it on a new host: install.sh from the controller installs the package
// from the controller's /downloads/ and enrols the agent.
func installWithCommand(t *testing.T, c *controller) {
	t.Helper()
	status, reply := c.call(t, "POST", "/api/agents/tokens", map[string]any{})
	require.Equal(t, 201, status, "%v", reply)
	command, _ := reply["install_command"].(string)
	require.Contains(t, command, "/downloads/install.sh | sudo sh -s -- --controller "+
		c.agentAddr+" --token ")
	sh := exec.Command("sh", "-c", command)
	if _, err := exec.LookPath("sudo"); err != nil {
		// We are root already; testdata/bin/sudo stands in for the missing sudo.
		stand, err := filepath.Abs("testdata/bin")
		require.NoError(t, err)
		sh.Env = append(os.Environ(), "PATH="+stand+":"+os.Getenv("PATH"))
	}
	raw, err := sh.CombinedOutput()
	out := string(raw)
	require.NoError(t, err, "%s", out)
	assert.Contains(t, out, "enrolled as ")
	assert.Contains(t, out, "systemd is not running")
	assert.NotContains(t, readFile(t, agentConfig), reply["token"].(string))
	assert.Contains(t, readFile(t, agentConfig), "controller: "+c.agentAddr)
}

// checkInstalled checks what the package and its scripts leave on the host.
func checkInstalled(t *testing.T, version string) {
	t.Helper()
	assert.Contains(t, run(t, agentBin, "version"), "grim-agent "+version+" (commit test"+
		version+")")
	uid := lookupID(t, "-u")
	st := stat(t, agentState)
	assert.Equal(t, uid, int(st.Uid), "owner of %s", agentState)
	assert.Equal(t, uint32(0o700), st.Mode&0o777, "mode of %s", agentState)
	for _, f := range []string{"agent.json"} {
		if fi := stat(t, filepath.Join(agentState, f)); fi != nil {
			assert.Equal(t, uid, int(fi.Uid), "owner of %s", f)
		}
	}
	target, err := os.Readlink(unitLink)
	require.NoError(t, err, "the unit is enabled")
	assert.Contains(t, target, "grim-agent.service")
}

// checkUnits runs systemd's own checks on the installed agent unit and on the
// controller's unit: verify must print nothing, and the agent's exposure must stay below
// 3 on systemd's scale of 0 (locked down) to 10.
func checkUnits(t *testing.T) {
	out, err := exec.Command("systemd-analyze", "verify", agentUnit).CombinedOutput()
	assert.NoError(t, err)
	assert.Empty(t, string(out), "systemd-analyze verify %s", agentUnit)

	ctl := filepath.Join(t.TempDir(), "grim-controller.service")
	unit := readFile(t, filepath.Join("systemd", "grim-controller.service"))
	// The controller is not installed here; its unit is checked against a real binary.
	unit = strings.Replace(unit, "/usr/bin/grim-controller", agentBin, 1)
	require.NoError(t, os.WriteFile(ctl, []byte(unit), 0o644))
	out, err = exec.Command("systemd-analyze", "verify", ctl).CombinedOutput()
	assert.NoError(t, err)
	assert.Empty(t, string(out), "systemd-analyze verify grim-controller.service")

	for unit, limit := range map[string]float64{"grim-agent.service": 3, ctl: 2} {
		score := exposure(t, unit)
		t.Logf("systemd-analyze security %s: %.1f", filepath.Base(unit), score)
		assert.Less(t, score, limit, "exposure of %s", unit)
	}
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

func exposure(t *testing.T, unit string) float64 {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager",
		unit).CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := exposureRE.FindSubmatch(out)
	require.NotNil(t, m, "%s", out)
	f, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return f
}

// startInstalledAgent runs the installed agent as its unit would, where systemd is not
// running: as the user grim-agent with just the unit's capabilities, and only the
// settings file to go by.
func startInstalledAgent(t *testing.T) *process {
	t.Helper()
	return start(t, "setpriv", nil, "--reuid", agentUser, "--regid", agentUser,
		"--init-groups", "--inh-caps", agentCaps, "--ambient-caps", agentCaps,
		"--bounding-set", "-all,"+agentCaps, "--no-new-privs",
		agentBin, "run", "--config", agentConfig)
}

// secretTree makes files that only root may read, which the agent's user reads through
// CAP_DAC_READ_SEARCH alone.
func secretTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys", "host.key"), []byte("k"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes"), []byte("n"), 0o600))
	require.NoError(t, os.Chmod(dir, 0o700))
	return dir
}

func debArch() string {
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		return "amd64"
	}
	return strings.TrimSpace(string(out))
}

func lookupID(t *testing.T, flag string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(run(t, "id", flag, agentUser)))
	require.NoError(t, err)
	return n
}

func stat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(p, &st), "stat %s", p)
	return &st
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func digest(t *testing.T, p string) string {
	t.Helper()
	return fmt.Sprintf("%x", sha256.Sum256([]byte(readFile(t, p))))
}
