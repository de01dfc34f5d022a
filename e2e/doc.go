// Package e2e drives the real grim-controller, grim-agent and grim binaries as separate
// processes over real sockets, the way an operator runs them. It has tests only.
package e2e
