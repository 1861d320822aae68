package xmpptest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	ejabberdStartTimeout = 90 * time.Second // an Erlang VM boots slower than Prosody: 15-20 s, even over 30 s, with both cores busy
	ejabberdStopTimeout  = 10 * time.Second // SIGTERM grace; a clean stop takes 1-2.5 s
	ejabberdCtlTimeout   = 30 * time.Second // one ejabberdctl command (it boots a VM of its own)
)

// EjabberdConfig describes the ejabberd instance to start.
type EjabberdConfig struct {
	Domain     string            // the host, e.g. "example.test"; required
	Components map[string]string // XEP-0114 component domain -> password (ejabberd_service)
	Users      map[string]string // localpart -> password, registered once the server runs
	Dir        string            // working dir for config, database and logs; required
	Modules    []string          // extra modules, each with default options, e.g. "mod_version"
	LogLevel   string            // ejabberd's loglevel; "info" if empty ("debug" logs every stanza)
	// ExtraConfig is raw YAML added at the top level of ejabberd.yml (options
	// not set by xmpptest; a key it sets may not be repeated).
	ExtraConfig string
	// Privileged makes components XEP-0356 privileged entities with
	// ejabberd's mod_privilege: component domain -> roster access ("get",
	// "set" or "both"). Each access gets an ACL of those component domains
	// (xmpptest_roster_both...) and an access rule of the same name allowing
	// it, which mod_privilege's roster option names. ejabberd 23.01 then
	// sends each component, when it connects, a message from the host with
	// <privilege xmlns="urn:xmpp:privilege:1">.
	Privileged map[string]string
}

// Ejabberd is a running (or stopped) ejabberd started by StartEjabberd.
//
// It runs as the calling user (root included), in the foreground, from a copy
// of the system's ejabberdctl in Dir that neither switches to the ejabberd
// user (so Dir can be a private temp dir, and nothing in it belongs to another
// user) nor stays in between as a shell: the Erlang VM is the direct child of
// this process, in its own process group, killed by the kernel if this process
// dies (Linux). Erlang distribution listens on a port of its own on 127.0.0.1
// (ERL_DIST_PORT), so no epmd daemon is started or used: nothing outlives
// Stop, and parallel test runs share nothing. HOME is Dir, which holds the
// instance's Erlang cookie.
type Ejabberd struct {
	C2SAddr       string // client-to-server address, "127.0.0.1:PORT"
	ComponentAddr string // XEP-0114 address; "" if no components are configured
	Domain        string
	Dir           string
	ConfigPath    string
	LogPath       string // the VM's console output (all of ejabberd's log, with crash reports), all runs
	Node          string // Erlang node name, unique per instance, e.g. "xmpptest_4242_1_a1b2c3@localhost"

	cfg      EjabberdConfig
	ctl      string // the ejabberdctl copy
	c2sPort  int
	compPort int
	distPort int

	process
}

// ejabberdctlPath is where Debian installs ejabberdctl; /usr/sbin is not on
// every user's PATH.
var ejabberdctlPath = "/usr/sbin/ejabberdctl"

var ejabberdSeq atomic.Int64

// EjabberdInstalled returns nil if ejabberd (ejabberdctl and the Erlang
// runtime) is installed.
func EjabberdInstalled() error {
	if _, err := findEjabberdctl(); err != nil {
		return err
	}
	if _, err := exec.LookPath("erl"); err != nil {
		return errors.New("xmpptest: erl (the Erlang runtime) not found on PATH: run `make deps` (scripts/install-deps.sh) to install ejabberd")
	}
	return nil
}

func findEjabberdctl() (string, error) {
	if p, err := exec.LookPath("ejabberdctl"); err == nil {
		return p, nil
	}
	if _, err := os.Stat(ejabberdctlPath); err == nil {
		return ejabberdctlPath, nil
	}
	return "", errors.New("xmpptest: ejabberdctl not found (on PATH or at " + ejabberdctlPath + "): run `make deps` (scripts/install-deps.sh) to install ejabberd")
}

// safePath matches the directories ejabberdctl can cope with: it splits its
// options on blanks and quotes the spool dir as an Erlang string.
var safePath = regexp.MustCompile(`^[A-Za-z0-9/._+=,@-]+$`)

// StartEjabberd writes a config into cfg.Dir, starts ejabberd on free loopback
// ports and registers cfg.Users. It returns once ejabberd has logged that it
// accepts connections on the c2s port (and the component port, if there are
// components), they accept TCP connections, and the users exist; it retries
// with new ports if one was taken. The process is not tied to ctx, which only
// bounds the startup; call Stop.
func StartEjabberd(ctx context.Context, cfg EjabberdConfig) (*Ejabberd, error) {
	if err := EjabberdInstalled(); err != nil {
		return nil, err
	}
	sysctl, err := findEjabberdctl()
	if err != nil {
		return nil, err
	}
	if cfg.Domain == "" {
		return nil, errors.New("xmpptest: EjabberdConfig.Domain is required")
	}
	if cfg.Dir == "" {
		return nil, errors.New("xmpptest: EjabberdConfig.Dir is required")
	}
	for c, access := range cfg.Privileged {
		if access != "both" && access != "get" && access != "set" {
			return nil, fmt.Errorf("xmpptest: EjabberdConfig.Privileged[%q] = %q: want both, get or set", c, access)
		}
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if !safePath.MatchString(dir) {
		return nil, fmt.Errorf("xmpptest: ejabberd dir %q: ejabberdctl needs a path of letters, digits and /._+=,@- only", dir)
	}
	cfg.Dir = dir
	for _, d := range []string{"db", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("xmpptest: %w", err)
		}
	}
	e := &Ejabberd{
		Domain:     cfg.Domain,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "ejabberd.yml"),
		LogPath:    filepath.Join(dir, "ejabberd.console.log"),
		Node:       fmt.Sprintf("xmpptest_%d_%d_%s@localhost", os.Getpid(), ejabberdSeq.Add(1), randomID()[:6]),
		ctl:        filepath.Join(dir, "ejabberdctl"),
		cfg:        cfg,
	}
	if err := e.writeFiles(sysctl); err != nil {
		return nil, err
	}
	for try := 1; ; try++ {
		ports, err := freePorts(3)
		if err != nil {
			return nil, err
		}
		e.setPorts(ports[0], ports[1], ports[2])
		if err := e.writeConfig(); err != nil {
			return nil, err
		}
		err = e.start(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) || try == startTries {
			return nil, err
		}
	}
	// Registration needs the server up.
	for _, user := range sortedKeys(cfg.Users) {
		if err := e.RegisterUser(ctx, user, cfg.Users[user]); err != nil {
			e.Kill()
			return nil, err
		}
	}
	return e, nil
}

// StartEjabberdT starts ejabberd for a test in a t.TempDir() (unless cfg.Dir
// is set) and stops it in t.Cleanup (with SIGKILL if the dir is its own, since
// nothing will read the database again). It fails the test (it does not skip)
// if ejabberd is not installed or does not start.
func StartEjabberdT(t testing.TB, cfg EjabberdConfig) *Ejabberd {
	t.Helper()
	if err := EjabberdInstalled(); err != nil {
		t.Fatalf("%v\nPlease run `make deps` (scripts/install-deps.sh; make test does it) before running the tests.", err)
	}
	ownDir := cfg.Dir == ""
	if ownDir {
		cfg.Dir = t.TempDir()
	}
	e, err := StartEjabberd(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop := e.Stop
		if ownDir {
			// Its database goes with the temp dir: skip the clean
			// shutdown, which takes over a second.
			stop = e.Kill
		}
		if err := stop(); errors.Is(err, ErrForcedKill) {
			t.Logf("stopping ejabberd: %v", err)
		} else if err != nil {
			t.Errorf("stopping ejabberd: %v", err)
		}
		if t.Failed() {
			t.Logf("ejabberd log (%s):\n%s", e.LogPath, tail(e.Log(), 40))
		}
	})
	return e
}

// RegisterUser creates user@Domain, or sets its password if it exists. It
// needs the server to be running (unlike Prosody's). A new user is created
// with in-band registration (XEP-0077, open on this test server), which takes
// milliseconds; an existing one gets its password with ejabberdctl
// change_password, which boots an Erlang VM (~0.5 s).
func (e *Ejabberd) RegisterUser(ctx context.Context, user, password string) error {
	err := registerInBand(ctx, e.C2SAddr, e.Domain, user, password)
	if err == nil {
		return nil
	}
	var out string
	if errors.Is(err, errUserExists) {
		out, err = e.Ctl(ctx, "change_password", user, e.Domain, password)
	} else {
		// Whatever went wrong, ejabberdctl may still do it.
		out, err = e.Ctl(ctx, "register", user, e.Domain, password)
		if err != nil && strings.Contains(out, "already registered") {
			out, err = e.Ctl(ctx, "change_password", user, e.Domain, password)
		}
	}
	if err != nil {
		return fmt.Errorf("xmpptest: ejabberdctl register %s %s: %v\n%s", user, e.Domain, err, out)
	}
	return nil
}

// Ctl runs one ejabberdctl command against this node, e.g. Ctl(ctx,
// "connected_users"), and returns its output. Each command boots an Erlang VM
// (~0.4 s).
func (e *Ejabberd) Ctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ejabberdCtlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append(e.ctlArgs(), args...)...)
	cmd.Dir = e.Dir
	cmd.Env = e.env()
	cmd.SysProcAttr = sysProcAttr()
	// Kill the whole group: the script execs erl, which may leave helpers.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	return cleanCtlOutput(string(out)), err
}

// cleanCtlOutput drops the warning ejabberdctl prints for the root user.
func cleanCtlOutput(s string) string {
	s = strings.ReplaceAll(s, "WARNING: It is not recommended to run ejabberd as root\n", "")
	return strings.ReplaceAll(s, "WARNING: It is not recommended to run ejabberd as root", "")
}

// Stop stops ejabberd with SIGTERM (a clean shutdown: the Erlang VM runs
// init:stop) and waits for it to exit, sending SIGKILL after 10s. Stopping a
// stopped server does nothing.
func (e *Ejabberd) Stop() error {
	return e.stop(syscall.SIGTERM, ejabberdStopTimeout)
}

// Kill stops ejabberd at once with SIGKILL (a crash, for reconnect tests).
func (e *Ejabberd) Kill() error {
	return e.stop(syscall.SIGKILL, ejabberdStopTimeout)
}

// Restart stops ejabberd and starts it again on the same ports, with the same
// node name and database, so accounts and offline messages survive.
func (e *Ejabberd) Restart(ctx context.Context) error { return restart(ctx, e.Stop, e.start) }

// Log returns ejabberd's console output (all runs). ejabberd also writes
// Dir/log/ejabberd.log, without the crash reports.
func (e *Ejabberd) Log() string { return cleanCtlOutput(readLog(e.LogPath)) }

// Pid returns the process id of the Erlang VM, or 0 if it is not running.
func (e *Ejabberd) Pid() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd == nil {
		return 0
	}
	return e.cmd.Process.Pid
}

func (e *Ejabberd) setPorts(c2s, comp, dist int) {
	e.c2sPort, e.compPort, e.distPort = c2s, comp, dist
	e.C2SAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(c2s))
	e.ComponentAddr = ""
	if len(e.cfg.Components) > 0 {
		e.ComponentAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(comp))
	}
}

func (e *Ejabberd) ctlArgs() []string {
	return []string{e.ctl,
		"--config-dir", e.Dir,
		"--config", e.ConfigPath,
		"--ctl-config", filepath.Join(e.Dir, "ejabberdctl.cfg"),
		"--spool", filepath.Join(e.Dir, "db"),
		"--logs", filepath.Join(e.Dir, "log"),
		"--node", e.Node,
	}
}

// env is this process's environment with HOME set to Dir (the Erlang cookie)
// and Erlang settings from the environment that would change the node left out.
func (e *Ejabberd) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_EPMD_PORT", "ERL_EPMD_ADDRESS", "ERL_DIST_PORT",
			"ERL_INETRC", "ERL_LIBS", "EJABBERD_CONFIG_PATH", "EJABBERDCTL_CONFIG_PATH", "SCRIPT":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+e.Dir)
}

// Patches to Debian's ejabberdctl (23.01): stay the calling user, and exec
// erl rather than wait for it, so the VM is our child and gets Pdeathsig.
var ctlPatches = [][2]string{
	{"\nINSTALLUSER=ejabberd\n", "\nINSTALLUSER=\n"},
	{"\n        as_current_user) \"$@\" ;;\n", "\n        as_current_user) exec \"$@\" ;;\n"},
}

// writeFiles writes the files that stay the same across ports and restarts:
// the patched ejabberdctl, inetrc and the Erlang cookie.
func (e *Ejabberd) writeFiles(sysctl string) error {
	b, err := os.ReadFile(sysctl)
	if err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	script := string(b)
	for _, p := range ctlPatches {
		if n := strings.Count(script, p[0]); n != 1 {
			return fmt.Errorf("xmpptest: %s is not the script xmpptest knows (Debian's ejabberd 23.01): %q found %d times", sysctl, strings.TrimSpace(p[0]), n)
		}
		script = strings.Replace(script, p[0], p[1], 1)
	}
	if err := os.WriteFile(e.ctl, []byte(script), 0o700); err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	// As Debian's /etc/ejabberd/inetrc: localhost is 127.0.0.1 whatever /etc/hosts says.
	inetrc := "{lookup,[\"file\",\"native\"]}.\n{host,{127,0,0,1}, [\"localhost\",\"hostalias\"]}.\n{file, resolv, \"/etc/resolv.conf\"}.\n"
	if err := os.WriteFile(filepath.Join(e.Dir, "inetrc"), []byte(inetrc), 0o600); err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	cookie := filepath.Join(e.Dir, ".erlang.cookie")
	if _, err := os.Stat(cookie); errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 16)
		rand.Read(b)
		// Erlang refuses a cookie file others can read.
		if err := os.WriteFile(cookie, []byte(strings.ToUpper(hex.EncodeToString(b))), 0o400); err != nil {
			return fmt.Errorf("xmpptest: %w", err)
		}
	}
	return nil
}

// writeConfig writes ejabberdctl.cfg and ejabberd.yml for the current ports.
func (e *Ejabberd) writeConfig() error {
	ctlcfg := fmt.Sprintf(`# Generated by xmppgw/internal/xmpptest; sourced by ejabberdctl.
# Erlang distribution on a port of its own on loopback, without epmd.
ERL_DIST_PORT=%d
ERL_EPMD_ADDRESS=127.0.0.1
ERL_OPTIONS="-kernel inet_dist_use_interface {127,0,0,1}"
EJABBERD_BYPASS_WARNINGS=true
`, e.distPort)
	if err := os.WriteFile(filepath.Join(e.Dir, "ejabberdctl.cfg"), []byte(ctlcfg), 0o600); err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	if err := os.WriteFile(e.ConfigPath, []byte(e.config()), 0o600); err != nil {
		return fmt.Errorf("xmpptest: %w", err)
	}
	return nil
}

// config renders ejabberd.yml.
func (e *Ejabberd) config() string {
	q := yamlString
	level := e.cfg.LogLevel
	if level == "" {
		level = "info"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by xmppgw/internal/xmpptest.
hosts: [%s]
loglevel: %s
hide_sensitive_log_data: true
certfiles: []
listen:
  - port: %d
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: false
    starttls_required: false
    backlog: 128
`, q(e.cfg.Domain), level, e.c2sPort)
	if len(e.cfg.Components) > 0 {
		// global_routes: false, or each component connection is also
		// routed the other components' domains (ejabberd's legacy default).
		fmt.Fprintf(&b, `  - port: %d
    ip: "127.0.0.1"
    module: ejabberd_service
    global_routes: false
    backlog: 128
    hosts:
`, e.compPort)
		for _, c := range sortedKeys(e.cfg.Components) {
			fmt.Fprintf(&b, "      %s:\n        password: %s\n", q(c), q(e.cfg.Components[c]))
		}
	}
	// mod_register: in-band registration for RegisterUser, open to all
	// (the server listens on loopback only), without the default limit of
	// one registration per IP address per 10 minutes.
	modules := []string{"mod_admin_extra", "mod_disco", "mod_offline", "mod_ping", "mod_register", "mod_roster"}
	modules = append(modules, e.cfg.Modules...)
	// mod_privilege: an ACL and an access rule per roster access granted.
	privileged := map[string][]string{} // roster access -> component domains
	var accesses []string
	for _, c := range sortedKeys(e.cfg.Privileged) {
		access := e.cfg.Privileged[c]
		if privileged[access] == nil {
			accesses = append(accesses, access)
		}
		privileged[access] = append(privileged[access], c)
	}
	sort.Strings(accesses)
	privACL, privRules, privOpts := "", "", ""
	for _, access := range accesses {
		name := "xmpptest_roster_" + access
		var hosts []string
		for _, c := range privileged[access] {
			hosts = append(hosts, q(c))
		}
		privACL += fmt.Sprintf("  %s: {server: [%s]}\n", name, strings.Join(hosts, ", "))
		privRules += fmt.Sprintf("  %s: {allow: %s}\n", name, name)
		privOpts += fmt.Sprintf("      %s: %s\n", access, name)
	}
	fmt.Fprintf(&b, `auth_method: internal
auth_password_format: scram
registration_timeout: infinity
acl:
  local: {user_regexp: ""}
%saccess_rules:
  local: {allow: local}
  c2s: {allow: all}
  register: {allow: all}
  s2s: {deny: all}
%ss2s_access: s2s
shaper_rules:
  c2s_shaper: none
modules:
`, privACL, privRules)
	for _, m := range modules {
		fmt.Fprintf(&b, "  %s: {}\n", m)
	}
	if privOpts != "" {
		fmt.Fprintf(&b, "  mod_privilege:\n    roster:\n%s", privOpts)
	}
	if e.cfg.ExtraConfig != "" {
		b.WriteString(e.cfg.ExtraConfig)
		b.WriteString("\n")
	}
	return b.String()
}

// yamlString quotes s as a YAML double-quoted scalar (JSON's syntax is a subset).
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// start runs ejabberd in the foreground and waits until its ports are open.
func (e *Ejabberd) start(ctx context.Context) error {
	e.mu.Lock()
	if e.cmd != nil {
		e.mu.Unlock()
		return errors.New("xmpptest: ejabberd already running")
	}
	logf, err := os.OpenFile(e.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("xmpptest: %w", err)
	}
	offset, _ := logf.Seek(0, 2)
	cmd := exec.Command("bash", append(e.ctlArgs(), "foreground")...)
	cmd.Dir = e.Dir
	cmd.Env = e.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	logf.Close()
	if err != nil {
		e.mu.Unlock()
		return fmt.Errorf("xmpptest: starting ejabberd: %w", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	e.cmd, e.done = cmd, done
	e.mu.Unlock()

	if err := e.waitReady(ctx, offset, done); err != nil {
		e.Kill()
		return err
	}
	return nil
}

// waitReady polls until ejabberd logged that it accepts connections on its
// ports and they accept TCP, ejabberd exited, a port is taken, or the timeout
// expires.
func (e *Ejabberd) waitReady(ctx context.Context, offset int64, done <-chan struct{}) error {
	deadline := time.Now().Add(ejabberdStartTimeout)
	want := []string{fmt.Sprintf("Start accepting TCP connections at 127.0.0.1:%d for ejabberd_c2s", e.c2sPort)}
	addrs := []string{e.C2SAddr}
	if e.ComponentAddr != "" {
		want = append(want, fmt.Sprintf("Start accepting TCP connections at 127.0.0.1:%d for ejabberd_service", e.compPort))
		addrs = append(addrs, e.ComponentAddr)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("xmpptest: ejabberd (c2s %s, component %s, dist port %d, dir %s): %s; log:\n%s",
			e.C2SAddr, e.ComponentAddr, e.distPort, e.Dir, fmt.Sprintf(format, args...), tail(cleanCtlOutput(logSince(e.LogPath, offset)), 30))
	}
	for {
		log := logSince(e.LogPath, offset)
		exited := false
		select {
		case <-done:
			exited = true
		default:
		}
		// The listener or the distribution port: the VM stops either way.
		if strings.Contains(log, "eaddrinuse") {
			if !exited {
				select {
				case <-done:
				case <-time.After(ejabberdStopTimeout):
				}
			}
			return fmt.Errorf("%w: %w", errPortInUse, fail("a port is in use"))
		}
		if exited {
			return fail("exited during startup")
		}
		if containsAll(log, want) && dialAll(addrs) {
			return nil
		}
		if time.Now().After(deadline) {
			return fail("not ready after %v", ejabberdStartTimeout)
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
func (e *Ejabberd) stop(sig syscall.Signal, timeout time.Duration) error {
	e.mu.Lock()
	cmd, done := e.cmd, e.done
	e.cmd, e.done = nil, nil
	e.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pid := cmd.Process.Pid
	// The VM leads its group (Setpgid, and ejabberdctl execs it): its port
	// programs (memsup, inet_gethost, ...) go with it.
	if err := syscall.Kill(-pid, sig); err != nil {
		cmd.Process.Signal(sig)
	}
	select {
	case <-done:
		syscall.Kill(-pid, syscall.SIGKILL) // helpers that outlived the VM, if any
		return nil
	case <-time.After(timeout):
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-done:
		if sig == syscall.SIGKILL {
			return nil
		}
		return fmt.Errorf("%w: ejabberd ignored %v for %v", ErrForcedKill, sig, timeout)
	case <-time.After(timeout):
		return fmt.Errorf("xmpptest: ejabberd (pid %d) did not exit after SIGKILL", pid)
	}
}
