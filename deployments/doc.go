// Package deployments holds no Go code: this directory has the systemd units, default
// settings, nfpm package definitions and maintainer scripts with which Grim Reaper is
// rolled out to a fleet. Its tests build the packages, install them on the machine that
// runs the tests, and boot the agent's unit under systemd; `make test-packages` runs them.
package deployments
