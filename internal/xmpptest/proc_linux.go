package xmpptest

import "syscall"

// sysProcAttr puts Prosody in its own process group and has the kernel kill it
// if the thread that started it (and so the test binary) dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
