// Package deployments holds no Go code: this directory has the systemd units, default
// settings, nfpm package definitions and maintainer scripts with which Grim Reaper is
// rolled out to a fleet. Its tests build the packages, install the agent's on the machine
// that runs the tests, and install both in a throwaway container booted under systemd
// that starts both units; `make test-packages` runs them.
package deployments
