//go:build unix && !linux

package xmpptest

import "syscall"

// sysProcAttr puts Prosody in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
