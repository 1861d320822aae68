package xmpptest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a helper gives up.
type recorder struct {
	testing.TB
	fatal   string
	skipped bool
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(...any)          { r.skipped = true; runtime.Goexit() }
func (r *recorder) Skipf(string, ...any) { r.skipped = true; runtime.Goexit() }
func (r *recorder) SkipNow()             { r.skipped = true; runtime.Goexit() }

// Without ejabberd a test fails (it does not skip) and says what to run.
func TestStartEjabberdTFailsWhenMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := ejabberdctlPath
	ejabberdctlPath = "/nonexistent/ejabberdctl"
	t.Cleanup(func() { ejabberdctlPath = old })

	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartServerT(r, ServerEjabberd, ServerConfig{Domain: "example.test"})
	}()
	<-done
	if r.skipped || !strings.Contains(r.fatal, "make deps") || !strings.Contains(r.fatal, "ejabberdctl not found") {
		t.Errorf("skipped %v, fatal %q: want a failure that says to run make deps", r.skipped, r.fatal)
	}
}
