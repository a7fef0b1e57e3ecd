package kubetest

import "syscall"

// childProcAttr makes the kernel kill the control-plane processes when the test
// binary dies (a panic, a timeout, ^C), so no etcd or apiserver is left behind.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
