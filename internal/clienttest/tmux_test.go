//go:build integration

package clienttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A pane types literally, reads what the program shows, runs it in its
// own HOME, and is gone when its test ends.
func TestPane(t *testing.T) {
	var socket string
	t.Run("pane", func(t *testing.T) {
		p := StartPane(t, map[string]string{".config/x/rc": "hello"}, "sh", "-c", `echo "home=$HOME xdg=$XDG_CONFIG_HOME"; cat "$XDG_CONFIG_HOME/x/rc"; echo; exec cat`)
		socket = p.socket
		p.WaitFor("home=" + p.Home + " xdg=" + filepath.Join(p.Home, ".config"))
		p.WaitFor("hello")
		p.Type("-1 a;b 'c'") // a leading dash, tmux's separator and quotes
		if m := p.WaitForRe(`(?m)^-1 a;b 'c'\n(-1 a;b 'c')$`); m[1] != "-1 a;b 'c'" {
			t.Fatalf("match %q", m)
		}
		if p.WaitUntil(300*time.Millisecond, func(c string) bool { return strings.Contains(c, "never") }) {
			t.Fatal("WaitUntil saw what is not there")
		}
		out := filepath.Join(t.TempDir(), "pane.txt")
		if err := p.Save(out); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(out); !strings.Contains(string(b), "-1 a;b 'c'") {
			t.Fatalf("saved %q", b)
		}
	})
	if err := exec.Command("tmux", "-S", socket, "has-session").Run(); err == nil {
		t.Fatal("the tmux server outlived its test")
	}
}
