package proc

import "syscall"

// childAttr makes the kernel kill a child when the driver dies, even by SIGKILL.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
