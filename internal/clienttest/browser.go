package clienttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Wait bounds every browser action and every wait for the page.
const Wait = 20 * time.Second

// WebDir is this package's web/ folder: the driver and its npm packages.
func WebDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "web")
}

// Browser is a headless Chromium driven by web/driver.mjs.
type Browser struct {
	t   testing.TB
	cmd *exec.Cmd
	in  *json.Encoder
	out *bufio.Scanner
	mu  sync.Mutex
	id  int
	// ConsoleLog is the page's console, one line a message.
	ConsoleLog string
}

// StartBrowser starts the driver with a new browser; it is stopped when the
// test ends. It fails the test if Node.js, the npm packages or Chromium are
// missing.
func StartBrowser(t testing.TB, outDir string) *Browser {
	t.Helper()
	dir := WebDir()
	for _, need := range []string{filepath.Join(dir, "node_modules", "playwright-core"), filepath.Join(dir, "node_modules", "converse.js"), "/usr/bin/chromium"} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("clienttest: %v\nPlease run scripts/install-deps.sh (make test does it) before running the tests.", err)
		}
	}
	b := &Browser{t: t, ConsoleLog: filepath.Join(outDir, "console.log")}
	b.cmd = exec.Command("node", filepath.Join(dir, "driver.mjs"), b.ConsoleLog)
	b.cmd.Dir = dir
	b.cmd.Stderr = os.Stderr
	// Its own process group: Chromium's processes go with the driver.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := b.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("clienttest: start the browser driver: %v", err)
	}
	b.in, b.out = json.NewEncoder(stdin), bufio.NewScanner(stdout)
	b.out.Buffer(make([]byte, 1<<20), 16<<20)
	t.Cleanup(func() {
		stdin.Close() // the driver closes the browser and exits
		done := make(chan struct{})
		go func() { b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) // whatever is left of the group
		<-done
	})
	return b
}

// Op is one order to the driver (see web/driver.mjs).
type Op struct {
	Op      string `json:"op"`
	Sel     string `json:"sel,omitempty"`
	Text    string `json:"text,omitempty"`
	Value   string `json:"value,omitempty"`
	Key     string `json:"key,omitempty"`
	URL     string `json:"url,omitempty"`
	JS      string `json:"js,omitempty"`
	Path    string `json:"path,omitempty"`
	State   string `json:"state,omitempty"`
	Timeout int64  `json:"timeout"`
}

// Do runs op and returns its value, or its error.
func (b *Browser) Do(op Op) (json.RawMessage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.id++
	if op.Timeout == 0 {
		op.Timeout = Wait.Milliseconds()
	}
	req := struct {
		ID int `json:"id"`
		Op
	}{b.id, op}
	if err := b.in.Encode(req); err != nil {
		return nil, fmt.Errorf("clienttest: browser driver: %v", err)
	}
	// The driver bounds every op by its timeout; this bounds a hung driver.
	type answer struct {
		ID    int             `json:"id"`
		Value json.RawMessage `json:"value"`
		Error string          `json:"error"`
	}
	got := make(chan answer, 1)
	go func() {
		var a answer
		if b.out.Scan() {
			json.Unmarshal(b.out.Bytes(), &a)
		} else {
			a.Error = "the driver exited"
		}
		got <- a
	}()
	select {
	case a := <-got:
		if a.Error != "" {
			return nil, fmt.Errorf("clienttest: %s %s %q: %s", op.Op, op.Sel, op.Text, a.Error)
		}
		return a.Value, nil
	case <-time.After(time.Duration(op.Timeout)*time.Millisecond + 10*time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		return nil, fmt.Errorf("clienttest: the browser driver did not answer %s %s", op.Op, op.Sel)
	}
}

// must runs op, failing the test on error.
func (b *Browser) must(op Op) json.RawMessage {
	b.t.Helper()
	v, err := b.Do(op)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// Goto loads url.
func (b *Browser) Goto(url string) { b.t.Helper(); b.must(Op{Op: "goto", URL: url}) }

// Click clicks the first element matching sel (and holding text, if set).
func (b *Browser) Click(sel, text string) {
	b.t.Helper()
	b.must(Op{Op: "click", Sel: sel, Text: text})
}

// Fill types value into the first element matching sel.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.must(Op{Op: "fill", Sel: sel, Value: value})
}

// Press presses key (such as "Enter") in the first element matching sel.
func (b *Browser) Press(sel, key string) { b.t.Helper(); b.must(Op{Op: "press", Sel: sel, Key: key}) }

// WaitFor waits until an element matching sel (and holding text, if set) is
// visible.
func (b *Browser) WaitFor(sel, text string) {
	b.t.Helper()
	b.must(Op{Op: "wait", Sel: sel, Text: text})
}

// WaitGone waits until no element matching sel is visible.
func (b *Browser) WaitGone(sel string) {
	b.t.Helper()
	b.must(Op{Op: "wait", Sel: sel, State: "hidden"})
}

// Text returns the visible text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	var s string
	json.Unmarshal(b.must(Op{Op: "text", Sel: sel}), &s)
	return s
}

// Eval evaluates js in the page and decodes its value into v (if not nil).
func (b *Browser) Eval(js string, v any) {
	b.t.Helper()
	raw := b.must(Op{Op: "eval", JS: js})
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			b.t.Fatalf("clienttest: eval %s: %v", js, err)
		}
	}
}

// Screenshot saves the whole page as a PNG at path.
func (b *Browser) Screenshot(path string) error {
	_, err := b.Do(Op{Op: "screenshot", Path: path})
	return err
}
