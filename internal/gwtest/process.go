package gwtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"xmppgw/internal/xmpptest"
)

// Process is the gateway's binary running `run -config PATH`, as an
// operator runs it.
type Process struct {
	cmd    *exec.Cmd
	status chan error    // the exit status, once, for xmpptest.WaitReady
	exited chan struct{} // closed when the process has ended
	err    error         // the exit status, set before exited is closed
}

// Exec starts bin on the config at path, with env added to this process's
// environment and its output (both streams) to out. The process is killed
// if this one dies first.
func Exec(bin, path string, out io.Writer, env ...string) (*Process, error) {
	cmd := exec.Command(bin, "run", "-config", path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gwtest: start %s (run `make build`): %w", bin, err)
	}
	p := &Process{cmd: cmd, status: make(chan error, 1), exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
		p.status <- p.err
	}()
	return p, nil
}

// WaitReady waits until url (the gateway's /readyz) answers 200: both
// components are connected. It fails if the process ends first.
func (p *Process) WaitReady(ctx context.Context, url string) error {
	return xmpptest.WaitReady(ctx, url, p.status)
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) { p.cmd.Process.Signal(sig) }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitCode is the process's exit status, once Exited is closed.
func (p *Process) ExitCode() int { return p.cmd.ProcessState.ExitCode() }

// Stop sends sig and waits for the process to end, killing it after grace.
// It returns the exit status (nil for a clean exit). Stopping an ended
// process returns its status again.
func (p *Process) Stop(sig os.Signal, grace time.Duration) error {
	select {
	case <-p.exited:
		return p.err
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.exited
	}
	return p.err
}
