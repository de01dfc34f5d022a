// Package profiling lets a developer record a CPU profile of a whole daemon run without a
// debug endpoint: when GRIM_CPU_PROFILE names a directory, the process writes
// <dir>/<program>-<pid>.cpu.pprof from start until it exits cleanly. It is for measuring the
// data path (docs/design.md, "Profiling"), not for production.
package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// EnvVar names the directory that receives profiles.
const EnvVar = "GRIM_CPU_PROFILE"

// Start begins CPU profiling when getenv(EnvVar) is set and returns the function that
// finishes the profile; it returns a no-op when the variable is empty. A failure to start
// is returned so that a developer who asked for a profile is not left without one silently.
func Start(program string, getenv func(string) string) (stop func(), err error) {
	dir := getenv(EnvVar)
	if dir == "" {
		return func() {}, nil
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.cpu.pprof", program, os.Getpid()))
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
