package xmpptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	startTimeout = 15 * time.Second // how long Prosody may take to open its ports
	stopTimeout  = 5 * time.Second  // SIGTERM grace period before SIGKILL
	startTries   = 5                // attempts when a port turns out to be taken
)

// ErrForcedKill means the server did not stop on SIGTERM in time and was
// killed: it is stopped all the same. Seen rarely with Prosody, either on a
// loaded machine with no "Received SIGTERM" in its log, or when Prosody
// 0.12.3's shutdown fails in mod_c2s ("attempt to call a nil value (method
// 'close')") for a client disconnecting at that moment, and hangs.
var ErrForcedKill = errors.New("xmpptest: server was killed")

// errPortInUse means the server could not bind one of its ports.
var errPortInUse = errors.New("xmpptest: server port in use")

// ProsodyConfig describes the Prosody instance to start.
type ProsodyConfig struct {
	Domain     string            // VirtualHost, e.g. "example.test"; required
	Components map[string]string // XEP-0114 component domain -> secret
	Users      map[string]string // localpart -> password, registered before start
	Dir        string            // working dir for config, data, pid and log; required
	Modules    []string          // extra modules_enabled
	LogLevel   string            // minimum log level; "info" if empty ("debug" logs every stanza)
	// ExtraConfig is raw Lua added to the global section, before the
	// VirtualHost (e.g. settings for a module in Modules).
	ExtraConfig string
	// Privileged makes components XEP-0356 privileged entities with
	// mod_privilege (from the prosody-modules package): component domain
	// -> roster access ("get", "set" or "both"). The module is loaded on
	// the VirtualHost and on those components only.
	Privileged map[string]string
	// Messages are the Privileged components also granted the message
	// permission ("outgoing"); mod_carbons is then loaded too.
	Messages []string
	// WebSocket serves XMPP over WebSocket (RFC 7395, mod_websocket) on a
	// loopback HTTP port, for browser clients, with the modules a web client
	// expects of a usual server (XEP-0191 blocking, carbons, vCards).
	WebSocket bool
}

// PrivilegeModule is where the prosody-modules package installs mod_privilege.
const PrivilegeModule = "/usr/lib/prosody/modules/mod_privilege/mod_privilege.lua"

// PrivilegeInstalled returns nil if mod_privilege is installed.
func PrivilegeInstalled() error {
	if _, err := os.Stat(PrivilegeModule); err != nil {
		return fmt.Errorf("xmpptest: mod_privilege not found (%v): run scripts/install-deps.sh to install prosody-modules", err)
	}
	return nil
}

// Prosody is a running (or stopped) Prosody process started by StartProsody.
type Prosody struct {
	C2SAddr       string // client-to-server address, "127.0.0.1:PORT"
	ComponentAddr string // XEP-0114 address; "" if no components are configured
	Domain        string
	Dir           string
	ConfigPath    string
	LogPath       string // Prosody's log, with its stdout and stderr
	// WebSocketURL is ws://127.0.0.1:PORT/xmpp-websocket with
	// ProsodyConfig.WebSocket, else "".
	WebSocketURL string

	cfg      ProsodyConfig
	c2sPort  int
	compPort int
	httpPort int // 0 without WebSocket

	process
	logOffset int64 // size of the log when cmd started; guarded by mu
}

// Installed returns nil if prosody and prosodyctl are on PATH.
func Installed() error {
	for _, name := range []string{"prosody", "prosodyctl"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("xmpptest: %s not found on PATH: run scripts/install-deps.sh (or make test) to install Prosody", name)
		}
	}
	return nil
}

// StartProsody writes a config into cfg.Dir, registers cfg.Users and starts
// Prosody on free loopback ports. It returns once Prosody has logged that it
// listens on the c2s port (and the component port, if there are components)
// and they accept TCP connections; it retries with new ports if one was taken.
// The process is not tied to ctx, which only bounds the startup; call Stop.
func StartProsody(ctx context.Context, cfg ProsodyConfig) (*Prosody, error) {
	if err := Installed(); err != nil {
		return nil, err
	}
	if cfg.Domain == "" {
		return nil, errors.New("xmpptest: ProsodyConfig.Domain is required")
	}
	if cfg.Dir == "" {
		return nil, errors.New("xmpptest: ProsodyConfig.Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	for _, d := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, fmt.Errorf("xmpptest: %w", err)
		}
	}
	p := &Prosody{
		Domain:     cfg.Domain,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "prosody.cfg.lua"),
		LogPath:    filepath.Join(dir, "prosody.log"),
		cfg:        cfg,
	}

	registered := false
	for try := 1; ; try++ {
		ports, err := freePorts(3)
		if err != nil {
			return nil, err
		}
		p.setPorts(ports[0], ports[1])
		if cfg.WebSocket {
			p.httpPort = ports[2]
			p.WebSocketURL = fmt.Sprintf("ws://127.0.0.1:%d/xmpp-websocket", p.httpPort)
		}
		if err := os.WriteFile(p.ConfigPath, []byte(p.config()), 0o600); err != nil {
			return nil, fmt.Errorf("xmpptest: %w", err)
		}
		if !registered {
			// prosodyctl needs the config (data_path) and works with the server down.
			for _, user := range sortedKeys(cfg.Users) {
				if err := p.RegisterUser(ctx, user, cfg.Users[user]); err != nil {
					return nil, err
				}
			}
			registered = true
		}
		err = p.start(ctx)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, errPortInUse) || try == startTries {
			return nil, err
		}
	}
}

// StartProsodyT starts Prosody for a test in a t.TempDir() (unless cfg.Dir is
// set) and stops it in t.Cleanup. It fails the test (it does not skip) if
// Prosody is not installed or does not start.
func StartProsodyT(t testing.TB, cfg ProsodyConfig) *Prosody {
	t.Helper()
	if err := Installed(); err != nil {
		t.Fatalf("%v\nPlease run scripts/install-deps.sh (make test does it) before running the tests.", err)
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	p, err := StartProsody(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); errors.Is(err, ErrForcedKill) {
			// The server is gone either way; its shutdown speed is not under test.
			t.Logf("stopping prosody: %v", err)
		} else if err != nil {
			t.Errorf("stopping prosody: %v", err)
		}
		if t.Failed() {
			t.Logf("prosody log (%s):\n%s", p.LogPath, tail(p.Log(), 40))
		}
	})
	return p
}

// RegisterUser creates (or resets the password of) user@Domain with prosodyctl.
// It works whether the server is running or not.
func (p *Prosody) RegisterUser(ctx context.Context, user, password string) error {
	cmd := exec.CommandContext(ctx, "prosodyctl", "--config", p.ConfigPath, "register", user, p.Domain, password)
	cmd.Dir = p.Dir
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmpptest: prosodyctl register %s %s: %v\n%s", user, p.Domain, err, out)
	}
	return nil
}

// Stop stops Prosody with SIGTERM and waits for it to exit, sending SIGKILL
// after 5s. Stopping a stopped server does nothing.
func (p *Prosody) Stop() error {
	return p.stop(syscall.SIGTERM, stopTimeout)
}

// Kill stops Prosody at once with SIGKILL (a crash, for reconnect tests).
func (p *Prosody) Kill() error {
	return p.stop(syscall.SIGKILL, stopTimeout)
}

// Restart stops Prosody and starts it again on the same ports with the same
// data directory, so accounts and offline messages survive.
func (p *Prosody) Restart(ctx context.Context) error { return restart(ctx, p.Stop, p.start) }

// Log returns the contents of Prosody's log file (all runs).
func (p *Prosody) Log() string { return readLog(p.LogPath) }

func (p *Prosody) setPorts(c2s, comp int) {
	p.c2sPort, p.compPort = c2s, comp
	p.C2SAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(c2s))
	p.ComponentAddr = ""
	if len(p.cfg.Components) > 0 {
		p.ComponentAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(comp))
	}
}

// start runs prosody in the foreground and waits until its ports are open.
func (p *Prosody) start(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return errors.New("xmpptest: prosody already running")
	}
	logf, err := os.OpenFile(p.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("xmpptest: %w", err)
	}
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command("prosody", "--config", p.ConfigPath, "-F")
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	logf.Close()
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("xmpptest: starting prosody: %w", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	p.cmd, p.done, p.logOffset = cmd, done, offset
	p.mu.Unlock()

	if err := p.waitReady(ctx, offset, done); err != nil {
		p.Kill()
		return err
	}
	return nil
}

// waitReady polls until Prosody logged that it activated its ports and they
// accept TCP, Prosody exited, a port is taken, or the timeout expires.
func (p *Prosody) waitReady(ctx context.Context, offset int64, done <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	want := []string{fmt.Sprintf("Activated service 'c2s' on [127.0.0.1]:%d", p.c2sPort)}
	addrs := []string{p.C2SAddr}
	if p.httpPort != 0 {
		want = append(want, fmt.Sprintf("Activated service 'http' on [127.0.0.1]:%d", p.httpPort))
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.httpPort)))
	}
	if p.ComponentAddr != "" {
		want = append(want, fmt.Sprintf("Activated service 'component' on [127.0.0.1]:%d", p.compPort))
		addrs = append(addrs, p.ComponentAddr)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("xmpptest: prosody (c2s %s, component %s, dir %s): %s; log:\n%s",
			p.C2SAddr, p.ComponentAddr, p.Dir, fmt.Sprintf(format, args...), tail(p.logSince(offset), 30))
	}
	for {
		log := p.logSince(offset)
		if strings.Contains(log, "Failed to open server port") {
			return fmt.Errorf("%w: %w", errPortInUse, fail("a port is in use"))
		}
		select {
		case <-done:
			return fail("exited during startup")
		default:
		}
		if containsAll(log, want) && dialAll(addrs) {
			return nil
		}
		if time.Now().After(deadline) {
			return fail("not ready after %v", startTimeout)
		}
		select {
		case <-ctx.Done():
			return fail("%v", ctx.Err())
		case <-done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop signals the process group and waits; SIGKILL after timeout.
func (p *Prosody) stop(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done, offset := p.cmd, p.done, p.logOffset
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pid := cmd.Process.Pid
	// The group has the same id as its leader (Setpgid); fall back to the pid.
	if err := syscall.Kill(-pid, sig); err != nil {
		cmd.Process.Signal(sig)
	}
	deadline := time.After(timeout)
	logTail := &logScanner{path: p.LogPath, pos: offset}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			return nil
		case <-deadline:
			break wait
		case <-tick.C:
			// With clients connected, Prosody 0.12 idles up to 1s in its event
			// loop after it has finished shutting down: don't wait for that.
			if sig == syscall.SIGTERM && logTail.find("Shutdown complete") {
				syscall.Kill(-pid, syscall.SIGKILL)
				<-done
				return nil
			}
		}
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	cmd.Process.Kill()
	select {
	case <-done:
		if sig == syscall.SIGKILL {
			return nil
		}
		return fmt.Errorf("%w: prosody ignored %v for %v", ErrForcedKill, sig, timeout)
	case <-time.After(timeout):
		return fmt.Errorf("xmpptest: prosody (pid %d) did not exit after SIGKILL", pid)
	}
}

func (p *Prosody) logSince(offset int64) string { return logSince(p.LogPath, offset) }

// logSince returns what was appended to the file at path after offset.
func logSince(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// logScanner looks for a string in the log, reading only what was appended
// since its last call.
type logScanner struct {
	path string
	pos  int64
	tail string // end of what was read, for matches across reads
}

func (s *logScanner) find(sub string) bool {
	f, err := os.Open(s.path)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(s.pos, io.SeekStart); err != nil {
		return false
	}
	b, _ := io.ReadAll(f)
	s.pos += int64(len(b))
	text := s.tail + string(b)
	if strings.Contains(text, sub) {
		return true
	}
	if len(text) > len(sub) {
		text = text[len(text)-len(sub):]
	}
	s.tail = text
	return false
}

// config renders prosody.cfg.lua.
func (p *Prosody) config() string {
	q := luaString
	path := func(name string) string { return q(filepath.Join(p.Dir, name)) }
	level := p.cfg.LogLevel
	if level == "" {
		level = "info"
	}
	modules := []string{"disco", "roster", "saslauth", "ping", "posix", "offline"}
	modules = append(modules, p.cfg.Modules...)
	extra := p.cfg.ExtraConfig
	if p.cfg.WebSocket {
		modules = append(modules, "websocket", "blocklist", "carbons", "vcard_legacy", "private", "pep")
		// The page is served from another loopback port, over plain HTTP.
		extra = fmt.Sprintf("http_ports = { %d }; http_interfaces = { \"127.0.0.1\" }\n"+
			"https_ports = {}; consider_websocket_secure = true; cross_domain_websocket = true\n", p.httpPort) + extra
	}
	plugins := "{}"
	if len(p.cfg.Messages) > 0 && !p.cfg.WebSocket {
		modules = append(modules, "carbons")
	}
	if len(p.cfg.Privileged) > 0 {
		modules = append(modules, "privilege")
		plugins = "{ " + q(filepath.Dir(filepath.Dir(PrivilegeModule))) + " }"
	}
	for i, m := range modules {
		modules[i] = q(m)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `-- Generated by xmppgw/internal/xmpptest.
run_as_root = true -- mod_posix refuses to run as root otherwise
daemonize = false
pidfile = %s
data_path = %s
plugin_paths = %s
certificates = %s
log = { { levels = { min = %s }, to = "file", filename = %s } }
interfaces = { "127.0.0.1" }
c2s_ports = { %d }; c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = {}; legacy_ssl_ports = {}; s2s_ports = {}
component_ports = { %d }; component_interfaces = { "127.0.0.1" }
modules_enabled = { %s }
modules_disabled = { "s2s", "tls" }
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
%s
VirtualHost %s
`, path("prosody.pid"), path("data"), plugins, path("certs"), q(level), q(p.LogPath),
		p.c2sPort, p.compPort, strings.Join(modules, ", "), extra, q(p.cfg.Domain))
	if len(p.cfg.Privileged) > 0 {
		b.WriteString("privileged_entities = {\n")
		for _, c := range sortedKeys(p.cfg.Privileged) {
			msg := ""
			if slices.Contains(p.cfg.Messages, c) {
				msg = `, message = "outgoing"`
			}
			fmt.Fprintf(&b, "\t[%s] = { roster = %s%s },\n", q(c), q(p.cfg.Privileged[c]), msg)
		}
		b.WriteString("}\n")
	}
	for _, c := range sortedKeys(p.cfg.Components) {
		fmt.Fprintf(&b, "\nComponent %s\n\tcomponent_secret = %s\n", q(c), q(p.cfg.Components[c]))
		if _, ok := p.cfg.Privileged[c]; ok {
			b.WriteString("\tmodules_enabled = { \"privilege\" }\n")
		}
	}
	return b.String()
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range []byte(s) {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\%03d", r)
		default:
			b.WriteByte(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func dialAll(addrs []string) bool {
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
