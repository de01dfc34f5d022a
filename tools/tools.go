//go:build tools

// Package tools pins the build tools of Grim Reaper in a module of their own, so the
// product's module does not carry their dependencies. `go run` them from this directory:
//
//	go -C tools run github.com/goreleaser/nfpm/v2/cmd/nfpm package ...
package tools

import (
	_ "github.com/goreleaser/nfpm/v2/cmd/nfpm"
)
