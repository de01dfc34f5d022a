package deployments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
)

// The two releases the tests build: the first is installed, the second upgrades it.
const (
	oldVersion = "0.1.0"
	newVersion = "0.2.0"
)

// build is one release's packages, and its controller package unpacked.
type build struct {
	version   string
	agentDeb  string
	agentRPM  string
	ctlDeb    string
	ctlRoot   string // the controller .deb extracted: usr/bin/grim-controller, usr/bin/grim...
	downloads string // ctlRoot's usr/share/grim/downloads
}

// The releases are built once per test binary, into buildDir, which TestMain removes.
var (
	buildsOnce sync.Once
	buildDir   string
	builds     map[string]*build
	buildsErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// requirePackageTests skips unless the package tests were asked for, and then ends the
// test where they cannot run here: a skip, or a failure under GRIM_REQUIRE_SERVICES=1.
func requirePackageTests(t *testing.T, tools ...string) {
	t.Helper()
	if os.Getenv("GRIM_PACKAGE_TESTS") == "" {
		t.Skip("package tests install on this machine: run them with `make test-packages`")
	}
	if os.Geteuid() != 0 {
		testkit.Unavailable(t, "package tests need root: they install with dpkg")
	}
	if runtime.GOOS != "linux" {
		testkit.Unavailable(t, "packages are for Linux")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testkit.Unavailable(t, "%s is not installed (scripts/test-deps.sh installs it)", tool)
		}
	}
}

// packages builds the old and new releases' .deb packages for this machine once.
func packages(t *testing.T) map[string]*build {
	t.Helper()
	buildsOnce.Do(func() { builds, buildsErr = buildAll() })
	require.NoError(t, buildsErr)
	return builds
}

func buildAll() (map[string]*build, error) {
	dir, err := os.MkdirTemp("", "grim-packages-")
	if err != nil {
		return nil, err
	}
	buildDir = dir
	out := map[string]*build{}
	for _, v := range []string{oldVersion, newVersion} {
		b, err := buildRelease(filepath.Join(dir, v), v)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", v, err)
		}
		out[v] = b
	}
	return out, nil
}

func buildRelease(dir, version string) (*build, error) {
	cmd := exec.Command("../scripts/packages.sh")
	cmd.Env = append(os.Environ(), "VERSION="+version, "COMMIT=test"+version,
		"PACKAGE_ARCHES="+runtime.GOARCH, "PACKAGE_FORMATS=deb rpm", "DIST="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("packages.sh: %w\n%s", err, out)
	}
	b := &build{version: version,
		agentDeb: filepath.Join(dir, fmt.Sprintf("grim-agent_%s_%s.deb", version, runtime.GOARCH)),
		ctlDeb: filepath.Join(dir, fmt.Sprintf("grim-controller_%s_%s.deb", version,
			runtime.GOARCH)),
		ctlRoot: filepath.Join(dir, "controller-root"),
	}
	rpms, _ := filepath.Glob(filepath.Join(dir, "grim-agent-"+version+"-1.*.rpm"))
	if len(rpms) != 1 {
		return nil, fmt.Errorf("want one agent rpm, got %v", rpms)
	}
	b.agentRPM = rpms[0]
	b.downloads = filepath.Join(b.ctlRoot, "usr/share/grim/downloads")
	out, err := exec.Command("dpkg-deb", "-x", b.ctlDeb, b.ctlRoot).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("unpack controller: %w\n%s", err, out)
	}
	return b, nil
}

// run runs a command and returns its standard output; it fails the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	require.NoError(t, err, "%s %s", name, strings.Join(args, " "))
	return out
}

func runErr(name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w\nstdout:\n%s\nstderr:\n%s", err, stdout.String(),
			stderr.String())
	}
	return stdout.String(), nil
}

// process is a program the test started and stops.
type process struct {
	cmd  *exec.Cmd
	logs *testkit.SyncBuffer
	done chan struct{}
}

func start(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	p := &process{logs: &testkit.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s output:\n%s", filepath.Base(name), p.logs.String())
		}
	})
	return p
}

// stop ends the process with SIGTERM, then SIGKILL after 20 seconds.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// grimJSON runs the packaged grim client against the controller and decodes its --json
// reply.
func grimJSON(t *testing.T, grim, url, key string, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, grim, append([]string{"--json"}, args...)...)
	cmd.Env = append(os.Environ(), "GRIM_URL="+url, "GRIM_API_KEY="+key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "grim %v: %s %s", args, out, stderr.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(out, &m), string(out))
	return m
}
