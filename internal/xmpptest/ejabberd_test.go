//go:build linux && integration

package xmpptest_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	xcomp "mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"

	"xmppgw/internal/xmpptest"
)

// component is an XEP-0114 connection that queues what it receives.
type testComponent struct {
	s   *xmpp.Session
	got chan string
}

// dialComponent logs in to addr as domain with secret.
func dialComponent(t *testing.T, c context.Context, addr, domain, secret string) (*testComponent, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	s, err := xcomp.NewSession(c, jid.MustParse(domain), []byte(secret), conn)
	conn.SetDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return nil, err
	}
	tc := &testComponent{s: s, got: make(chan string, 10)}
	go s.Serve(xmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		var buf bytes.Buffer
		e := xml.NewEncoder(&buf)
		e.EncodeToken(*start)
		xmlstream.Copy(e, r)
		e.Flush()
		tc.got <- buf.String()
		return nil
	}))
	t.Cleanup(func() { s.Close() })
	return tc, nil
}

// next returns the next stanza the component received, or "" after a while.
func (tc *testComponent) next(wait time.Duration) string {
	select {
	case m := <-tc.got:
		return m
	case <-time.After(wait):
		return ""
	}
}

// An XEP-0114 component logs in with its secret (and not without it) and
// receives what a user sends to a JID in its domain.
func TestComponentConnects(t *testing.T) {
	eachServer(t, func(t *testing.T, p xmpptest.Server) {
		c := ctx(t)
		if tc, err := dialComponent(t, c, p.Component(), component, "wrong"); err == nil {
			tc.s.Close()
			t.Fatal("a wrong secret was accepted")
		}
		tc, err := dialComponent(t, c, p.Component(), component, "s3cret-s3cret-s3cret")
		if err != nil {
			t.Fatal(err)
		}
		alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test/phone"), "pw-a")
		if err := alice.Send(c, "<message to='+15551234567@sms.example.test' type='chat'><body>to the gateway</body></message>"); err != nil {
			t.Fatal(err)
		}
		// Both servers stamp the sender's full JID.
		if m := tc.next(10 * time.Second); !strings.Contains(m, "to the gateway") || !strings.Contains(m, `from="alice@example.test/phone"`) {
			t.Errorf("component got %q", m)
		}
	})
}

// Two components on one listener each get only their own domain's stanzas
// (with ejabberd, thanks to global_routes: false).
func TestTwoComponentsOneListener(t *testing.T) {
	t.Parallel()
	for _, kind := range xmpptest.Servers {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			p := xmpptest.StartServerT(t, kind, xmpptest.ServerConfig{
				Domain:     domain,
				Components: map[string]string{"sms.example.test": "s1", "telegram.example.test": "s2"},
				Users:      map[string]string{"alice": "pw-a"},
			})
			c := ctx(t)
			// telegram first: with ejabberd's legacy global routes, it would
			// also be routed sms.example.test.
			tg, err := dialComponent(t, c, p.Component(), "telegram.example.test", "s2")
			if err != nil {
				t.Fatal(err)
			}
			sms, err := dialComponent(t, c, p.Component(), "sms.example.test", "s1")
			if err != nil {
				t.Fatal(err)
			}
			alice := xmpptest.DialT(t, p.C2S(), jid.MustParse("alice@example.test/phone"), "pw-a")
			for i := range 4 {
				body := "sms-" + strconv.Itoa(i)
				alice.Send(c, "<message to='+1555000000"+strconv.Itoa(i)+"@sms.example.test' type='chat'><body>"+body+"</body></message>")
				if m := sms.next(10 * time.Second); !strings.Contains(m, body) {
					t.Fatalf("sms component got %q, want %s", m, body)
				}
				body = "tg-" + strconv.Itoa(i)
				alice.Send(c, "<message to='"+strconv.Itoa(100+i)+"@telegram.example.test' type='chat'><body>"+body+"</body></message>")
				if m := tg.next(10 * time.Second); !strings.Contains(m, body) {
					t.Fatalf("telegram component got %q, want %s", m, body)
				}
			}
			if m := tg.next(100 * time.Millisecond); m != "" {
				t.Errorf("telegram component got %s", m)
			}
			if m := sms.next(100 * time.Millisecond); m != "" {
				t.Errorf("sms component got %s", m)
			}
		})
	}
}

// ejabberd's own behaviour: users can be re-registered while it runs, the VM
// is this process's child, no epmd is used, and nothing is left after Stop.
func TestEjabberdProcess(t *testing.T) {
	t.Parallel()
	e := xmpptest.StartEjabberdT(t, xmpptest.EjabberdConfig{
		Domain:     domain,
		Components: map[string]string{component: "s3cret-s3cret-s3cret"},
		Users:      map[string]string{"alice": "old"},
		Modules:    []string{"mod_version"},
		LogLevel:   "debug",
	})
	c := ctx(t)
	if err := e.RegisterUser(c, "alice", "new"); err != nil { // resets the password
		t.Fatal(err)
	}
	if _, err := xmpptest.Dial(c, e.C2SAddr, jid.MustParse("alice@example.test"), "old"); err == nil {
		t.Error("the old password still works")
	}
	alice := xmpptest.DialT(t, e.C2SAddr, jid.MustParse("alice@example.test"), "new")
	if err := alice.Send(c, "<iq type='get' to='example.test' id='ver'><query xmlns='jabber:iq:version'/></iq>"); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := alice.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if st.Name == "iq" {
			if st.Type != "result" || !strings.Contains(st.XML, "ejabberd") {
				t.Errorf("version answer = %s", st)
			}
			break
		}
	}
	if out, err := e.Ctl(c, "connected_users"); err != nil || !strings.Contains(out, "alice@example.test/") {
		t.Errorf("connected_users: %q, %v", out, err)
	}

	pid := e.Pid()
	cmdline := procCmdline(pid)
	for _, want := range []string{"beam", e.Node, "-start_epmd\x00false", "inet_dist_use_interface"} {
		if !strings.Contains(cmdline, want) {
			t.Errorf("ejabberd (pid %d) command line lacks %q: %q", pid, want, cmdline)
		}
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Errorf("pgid %d, %v: want the VM to lead its own group", pgid, err)
	}
	if ppid := procPPid(pid); ppid != os.Getpid() {
		t.Errorf("the VM's parent is %d, want this process (%d)", ppid, os.Getpid())
	}
	if !strings.Contains(e.Log(), "is started in the node "+e.Node) {
		t.Errorf("log:\n%s", e.Log())
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if e.Running() {
		t.Error("running after Stop")
	}
	for _, p := range procsMatching(e.Node) {
		t.Errorf("left running after Stop: pid %d %q", p, procCmdline(p))
	}
	if !strings.Contains(e.Log(), "is stopped in the node") {
		t.Errorf("no clean stop in the log:\n%s", e.Log())
	}
}

func TestStartEjabberdNeedsDirAndDomain(t *testing.T) {
	t.Parallel()
	for _, cfg := range []xmpptest.EjabberdConfig{
		{Domain: domain},
		{Dir: t.TempDir()},
		{Domain: domain, Dir: filepath.Join(t.TempDir(), "a dir with blanks")},
	} {
		if _, err := xmpptest.StartEjabberd(ctx(t), cfg); err == nil {
			t.Errorf("no error for %+v", cfg)
		}
	}
	if _, err := xmpptest.StartServer(ctx(t), "openfire", xmpptest.ServerConfig{Domain: domain, Dir: t.TempDir()}); err == nil {
		t.Error("no error for an unknown server")
	}
}

func TestEjabberdPortInUseIsRetried(t *testing.T) {
	// Not parallel: it checks that a Restart waits for its port.
	e := xmpptest.StartEjabberdT(t, xmpptest.EjabberdConfig{Domain: domain, Users: map[string]string{"bob": "pw-b"}})
	// Killed when its shutdown hangs (ErrForcedKill): stopped all the same.
	if err := e.Stop(); err != nil && !errors.Is(err, xmpptest.ErrForcedKill) {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", e.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	restarted := make(chan error, 1)
	go func() { restarted <- e.Restart(ctx(t)) }()
	for !strings.Contains(e.Log(), "eaddrinuse") {
		select {
		case err := <-restarted:
			l.Close()
			t.Fatalf("Restart returned %v while the port was taken", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	l.Close()
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	xmpptest.DialT(t, e.C2SAddr, jid.MustParse("bob@example.test"), "pw-b")
}

func procCmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return string(b)
}

func procPPid(pid int) int {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	// pid (comm) state ppid ...: comm may hold blanks, so split after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return -1
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// procsMatching returns the live processes whose command line contains s.
func procsMatching(s string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(procCmdline(pid), s) {
			if b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat")); err == nil && !bytes.Contains(b, []byte(") Z ")) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
