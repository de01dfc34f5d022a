//go:build !linux

package proc

import "syscall"

// childAttr asks nothing of the kernel where there is no parent-death signal; Stop and
// the driver's cleanup still end every child on a normal exit.
func childAttr() *syscall.SysProcAttr { return nil }
