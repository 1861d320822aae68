package xmpptest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// process is a server process the harness started (Prosody, ejabberd):
// its command and a channel closed when it has exited. The servers' own
// start and stop differ; what follows is shared.
type process struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Running reports whether the process is alive.
func (p *process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// restart stops a server and starts it again on the same ports: while
// whoever held them lets go, start fails with errPortInUse and is tried
// again, up to startTries times.
func restart(ctx context.Context, stop func() error, start func(context.Context) error) error {
	if err := stop(); err != nil && !errors.Is(err, ErrForcedKill) {
		return err
	}
	var err error
	for try := 1; try <= startTries; try++ {
		if err = start(ctx); !errors.Is(err, errPortInUse) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

// readLog returns the file at path, or a note saying why it cannot.
func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(b)
}
