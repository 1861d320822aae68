package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dryRun runs install-deps.sh --dry-run with args on a PATH that has only
// the tools it needs and stubs for the commands onPath (so nothing the
// host has counts, apart from the packages it finds by file), and returns
// what it printed.
func dryRun(t *testing.T, onPath []string, args ...string) string {
	t.Helper()
	bin := t.TempDir()
	for _, tool := range []string{"dirname", "ls", "id"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range onPath {
		if err := os.WriteFile(filepath.Join(bin, c), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	// The script runs from a copy whose web client has its lockfile but no
	// node_modules, whatever this checkout has installed.
	root := t.TempDir()
	script, err := os.ReadFile("install-deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(root, "internal", "clienttest", "web")
	for dir, file := range map[string]string{filepath.Join(root, "scripts"): "install-deps.sh", web: "package-lock.json"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), script, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bash, append([]string{filepath.Join(root, "scripts", "install-deps.sh"), "--dry-run"}, args...)...)
	cmd.Env = []string{"PATH=" + bin}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install-deps.sh --dry-run %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// wouldInstall returns the packages of the "would install" line of out.
func wouldInstall(out string) []string {
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "install-deps: would install: "); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// make demo installs only what the demo starts (Prosody and Alertmanager)
// and no npm packages; make test installs Debian's nodejs and npm only
// when npm is not on PATH (and not nodejs when node is), then runs npm ci.
func TestInstallDeps(t *testing.T) {
	demo := dryRun(t, nil, "demo")
	if got := strings.Join(wouldInstall(demo), " "); got != "prosody prometheus-alertmanager" || strings.Contains(demo, "npm") {
		t.Errorf("demo, nothing installed: would install %q, want prosody prometheus-alertmanager and no npm:\n%s", got, demo)
	}
	if out := dryRun(t, []string{"prosody", "prosodyctl", "prometheus-alertmanager"}, "demo"); !strings.Contains(out, "all Debian packages present") || strings.Contains(out, "npm") {
		t.Errorf("demo, all installed:\n%s", out)
	}
	for i, tt := range []struct {
		onPath []string
		tail   string // the end of the list of packages to install
	}{
		0: {nil, "nodejs npm"},
		1: {[]string{"node"}, "npm"},
		2: {[]string{"node", "npm"}, ""},
	} {
		for _, args := range [][]string{{"test"}, nil} { // test is the default
			out := dryRun(t, tt.onPath, args...)
			pkgs := wouldInstall(out)
			npm := 0
			for _, p := range pkgs {
				if p == "nodejs" || p == "npm" {
					npm++
				}
			}
			if len(pkgs) == 0 || npm != len(strings.Fields(tt.tail)) || !strings.HasSuffix(strings.Join(pkgs, " "), tt.tail) {
				t.Errorf("%d %v: would install %q, want it to end with %q and no other nodejs or npm:\n%s", i, args, pkgs, tt.tail, out)
			}
			if !strings.Contains(out, "install-deps: would run: npm ci in ") {
				t.Errorf("%d %v: no npm ci:\n%s", i, args, out)
			}
		}
	}
}

// make demo depends on the demo's dependencies, not the tests'.
func TestMakeDemoDeps(t *testing.T) {
	for target, want := range map[string]string{"demo": "bash scripts/install-deps.sh demo\n", "test": "bash scripts/install-deps.sh test\n"} {
		out, err := exec.Command("make", "-n", "-C", "..", target).CombinedOutput()
		if err != nil && !strings.Contains(string(out), want) {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		if n := strings.Count(string(out), "install-deps.sh"); n != 1 || !strings.Contains(string(out), want) {
			t.Errorf("make -n %s runs install-deps.sh %d times, want once as %q:\n%s", target, n, want, out)
		}
	}
}
