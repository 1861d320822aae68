package clienttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Pane is a program in a detached tmux session on a private tmux server
// (its own socket), with HOME and the XDG directories under the test's
// temporary directory. The server, and so the program, is killed when the
// test ends.
type Pane struct {
	t      testing.TB
	socket string
	// Home is the program's HOME; XDG_CONFIG_HOME, XDG_DATA_HOME and
	// XDG_CACHE_HOME are its .config, .local/share and .cache.
	Home string
	// Last is the last capture taken, by Capture or a wait.
	Last string
}

// The pane's geometry: wide, so that lines are seldom wrapped.
const (
	PaneWidth  = 220
	PaneHeight = 50
)

// StartPane runs argv in a new pane, in a clean environment (PATH, HOME,
// the XDG directories, TERM and a UTF-8 locale). Before it starts, files
// maps paths relative to Home to their contents (a config file). It fails
// the test if tmux or the program is missing.
func StartPane(t testing.TB, files map[string]string, argv ...string) *Pane {
	t.Helper()
	for _, prog := range []string{"tmux", argv[0]} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("clienttest: %v\nPlease run scripts/install-deps.sh (make test does it) before running the tests.", err)
		}
	}
	dir := t.TempDir()
	p := &Pane{t: t, socket: filepath.Join(dir, "tmux.sock"), Home: filepath.Join(dir, "home")}
	xdg := map[string]string{
		"XDG_CONFIG_HOME": filepath.Join(p.Home, ".config"),
		"XDG_DATA_HOME":   filepath.Join(p.Home, ".local", "share"),
		"XDG_CACHE_HOME":  filepath.Join(p.Home, ".cache"),
		"XDG_RUNTIME_DIR": filepath.Join(dir, "run"),
	}
	args := []string{"new-session", "-d", "-s", "test", "-x", fmt.Sprint(PaneWidth), "-y", fmt.Sprint(PaneHeight),
		"env", "-i", "PATH=" + os.Getenv("PATH"), "HOME=" + p.Home, "TERM=xterm-256color", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
	for k, d := range xdg {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		args = append(args, k+"="+d)
	}
	for name, content := range files {
		path := filepath.Join(p.Home, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args = append(args, argv...)
	if out, err := p.tmux(args...); err != nil {
		t.Fatalf("clienttest: tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { p.tmux("kill-server") })
	// Keep the pane when the program exits, to read its last words.
	p.tmux("set-option", "-t", "test", "remain-on-exit", "on")
	return p
}

// tmux runs a tmux command on p's server, bounded.
func (p *Pane) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", p.socket}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX=") { // not nested in the caller's tmux
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("tmux %s: timed out", args[0])
	}
}

// Type types text literally, then presses Enter.
func (p *Pane) Type(text string) {
	p.t.Helper()
	p.SendKeys("-l", "--", text)
	p.SendKeys("Enter")
}

// SendKeys runs tmux send-keys with args: key names, or -l and text.
func (p *Pane) SendKeys(args ...string) {
	p.t.Helper()
	if out, err := p.tmux(append([]string{"send-keys", "-t", "test"}, args...)...); err != nil {
		p.t.Fatalf("clienttest: tmux send-keys: %v: %s", err, out)
	}
}

// Capture returns the pane's visible text, without trailing blank lines.
func (p *Pane) Capture() string {
	p.t.Helper()
	out, err := p.tmux("capture-pane", "-p", "-t", "test")
	if err != nil {
		p.t.Fatalf("clienttest: tmux capture-pane: %v: %s", err, out)
	}
	p.Last = strings.TrimRight(out, "\n")
	return p.Last
}

// Save writes a fresh capture (or the last one, if tmux is gone) to path.
func (p *Pane) Save(path string) error {
	if out, err := p.tmux("capture-pane", "-p", "-t", "test"); err == nil {
		p.Last = strings.TrimRight(out, "\n")
	}
	return os.WriteFile(path, []byte(p.Last+"\n"), 0o644)
}

// WaitFor polls the pane until it shows s, for up to Wait, and fails the
// test with the last capture if it never does.
func (p *Pane) WaitFor(s string) {
	p.t.Helper()
	p.wait(fmt.Sprintf("%q", s), func(c string) bool { return strings.Contains(c, s) })
}

// WaitForRe polls the pane until re matches, like WaitFor, and returns the
// match and its submatches.
func (p *Pane) WaitForRe(re string) []string {
	p.t.Helper()
	r := regexp.MustCompile(re)
	var m []string
	p.wait("/"+re+"/", func(c string) bool { m = r.FindStringSubmatch(c); return m != nil })
	return m
}

// WaitUntil polls the pane until ok holds for its capture, for up to
// timeout, and reports whether it did. It does not fail the test.
func (p *Pane) WaitUntil(timeout time.Duration, ok func(capture string) bool) bool {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ok(p.Capture()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *Pane) wait(what string, ok func(string) bool) {
	p.t.Helper()
	if !p.WaitUntil(Wait, ok) {
		p.t.Fatalf("clienttest: the pane did not show %s within %v; it shows:\n%s", what, Wait, p.Last)
	}
}
