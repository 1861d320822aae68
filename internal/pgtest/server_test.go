//go:build integration

package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperServer())
	}
	os.Exit(Main(m))
}

func query(t *testing.T, dsn, q string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// A server of one's own answers on loopback with the test settings, and
// Stop ends it and removes its directory.
func TestStartT(t *testing.T) {
	s := StartT(t)
	if !strings.HasPrefix(s.DSN(), "postgres://postgres@127.0.0.1:") {
		t.Errorf("DSN %q", s.DSN())
	}
	for q, want := range map[string]string{
		"SHOW listen_addresses":        "127.0.0.1",
		"SHOW fsync":                   "off",
		"SHOW unix_socket_directories": s.Dir(),
		"SELECT current_user":          "postgres",
		"SELECT current_database()":    "postgres",
	} {
		if got := query(t, s.DSN(), q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(s.Dir()); !os.IsNotExist(err) {
		t.Errorf("directory left after Stop: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, s.DSN()); err == nil {
		c.Close(ctx)
		t.Error("the server still answers after Stop")
	}
}

// Each test gets a database of its own on the one shared server.
func TestDatabase(t *testing.T) {
	a, b := Database(t), Database(t)
	if a == b {
		t.Fatalf("the same database twice: %s", a)
	}
	if Shared(t) != Shared(t) {
		t.Error("two shared servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE only_in_a (n int)"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	const q = "SELECT count(*)::text FROM pg_tables WHERE tablename = 'only_in_a'"
	if got := query(t, a, q); got != "1" {
		t.Errorf("table missing in its database: %s", got)
	}
	if got := query(t, b, q); got != "0" {
		t.Errorf("a table of one test's database is in another's: %s", got)
	}
}

// helperEnv makes the test binary a process that starts a server, prints
// its pid and directory, and waits to be killed.
const helperEnv = "PGTEST_HELPER_SERVER"

func helperServer() int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := Start(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%d %s\n", s.Pid(), s.Dir())
	time.Sleep(time.Minute) // killed before
	s.Stop()
	return 1
}

// A server does not outlive a test binary that dies without stopping it.
func TestServerDiesWithTestBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %v", err)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscanf(line, "%d %s", &pid, &dir); err != nil {
		t.Fatalf("helper said %q", line)
	}
	defer os.RemoveAll(dir)
	if !alive(pid) {
		t.Fatalf("postgres %d not running", pid)
	}
	cmd.Process.Kill() // SIGKILL: no cleanup in the helper
	cmd.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("postgres %d still running 15s after its test binary died", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie, exited but not reaped, does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// Without the server's binaries, Start says how to install them.
func TestMissingBinaries(t *testing.T) {
	defer func(old string) { debianBins = old }(debianBins)
	debianBins = filepath.Join(t.TempDir(), "*", "bin")
	t.Setenv("PGTEST_BINDIR", "")
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("Start without binaries: %v", err)
	}
}
