package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
	"xmppgw/mapping"
)

const (
	benchSID   = "ACbench000000000000000000000000000"
	benchToken = "benchtoken000000000000000000000"
	botToken   = "7000001:bench-bot-token"
	senders    = 4
	secret     = "bench-secret-0123456789"
)

func senderNum(i int) string   { return fmt.Sprintf("+1555000%04d", i) }
func receiverNum(i int) string { return fmt.Sprintf("+1555001%04d", i) }
func remote(k int) string      { return fmt.Sprintf("+1555900%04d", k%100) }

// server is an XMPP server the gateway is measured behind.
type server struct {
	name      string // "Prosody", "ejabberd"
	c2s, comp string // client and component addresses
	stop      func() error
}

// env is the XMPP server, the fakes, the gateway process and the c2s clients.
type env struct {
	dir     string
	gateway string
	srv     server // the server the gateway and the clients use now
	servers []server
	twilio  *twiliofake.Fake
	tg      *botfake.Fake
	apiURL  string
	tgURL   string
	public  string
	store   string

	proc *exec.Cmd
	done chan error
	logs *bytes.Buffer
	// pprof, if set, mounts /debug/pprof/ on the gateway (XMPPGW_PPROF=1).
	pprof bool

	senders   []*xmpptest.Client
	receivers []*xmpptest.Client
	got       []atomic.Int64 // per receiver: messages of the current phase
	phase     atomic.Value   // string prefix of the current phase's bodies
	recvWG    sync.WaitGroup
}

func startEnv(ctx context.Context, gateway, dir string) (*env, error) {
	if err := xmpptest.Installed(); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	e := &env{dir: dir, gateway: gateway, logs: &bytes.Buffer{}, store: filepath.Join(dir, "xmppgw.db")}
	e.phase.Store("none")
	if err := e.useProsody(ctx); err != nil {
		return nil, err
	}
	var err error
	e.twilio = twiliofake.New(benchSID, benchToken)
	if e.apiURL, err = e.twilio.Start(); err != nil {
		e.close()
		return nil, err
	}
	e.tg = botfake.New(botToken)
	e.tgURL = e.tg.Start()
	port, err := xmpptest.FreePort()
	if err != nil {
		e.close()
		return nil, err
	}
	e.public = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := e.writeConfig("config.yaml", 1_000_000); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// benchUsers are the c2s accounts: senders s0.. and receivers r0..
func benchUsers() map[string]string {
	users := map[string]string{}
	for i := range senders {
		users[fmt.Sprintf("s%d", i)] = "pw"
		users[fmt.Sprintf("r%d", i)] = "pw"
	}
	return users
}

var benchComponents = map[string]string{"sms.example.test": secret, "telegram.example.test": secret}

// useProsody starts Prosody and makes it the server in use.
func (e *env) useProsody(ctx context.Context) error {
	p, err := xmpptest.StartProsody(ctx, xmpptest.ProsodyConfig{
		Domain:     "example.test",
		Components: benchComponents,
		Users:      benchUsers(),
		Dir:        filepath.Join(e.dir, "prosody"),
	})
	if err != nil {
		return err
	}
	e.srv = server{name: "Prosody", c2s: p.C2SAddr, comp: p.ComponentAddr, stop: p.Stop}
	e.servers = append(e.servers, e.srv)
	return nil
}

// useEjabberd starts ejabberd and makes it the server in use: the gateway
// is restarted on it and the clients log in to it.
func (e *env) useEjabberd(ctx context.Context) error {
	e.stopGateway()
	e.logout()
	j, err := xmpptest.StartEjabberd(ctx, xmpptest.EjabberdConfig{
		Domain:     "example.test",
		Components: benchComponents,
		Users:      benchUsers(),
		Dir:        filepath.Join(e.dir, "ejabberd"),
	})
	if err != nil {
		return err
	}
	e.srv = server{name: "ejabberd", c2s: j.C2SAddr, comp: j.ComponentAddr, stop: j.Stop}
	e.servers = append(e.servers, e.srv)
	if err := e.writeConfig("ejabberd.yaml", 1_000_000); err != nil {
		return err
	}
	if _, err := e.startGateway(ctx, "ejabberd.yaml"); err != nil {
		return err
	}
	return e.login(ctx)
}

// writeConfig writes a gateway config for the server in use whose SMS
// numbers may each send perNumber messages a second.
func (e *env) writeConfig(name string, perNumber float64) error {
	nums := map[string]string{}
	for i := range senders {
		nums[fmt.Sprintf("s%d@example.test", i)] = senderNum(i)
		nums[fmt.Sprintf("r%d@example.test", i)] = receiverNum(i)
	}
	cfg := gwtest.Config{
		XMPP:   gwtest.XMPP{Server: e.srv.comp},
		Store:  gwtest.Store{Path: e.store},
		HTTP:   gwtest.HTTP{Listen: strings.TrimPrefix(e.public, "http://"), PublicURL: e.public},
		Access: gwtest.Access{Allow: []string{"example.test"}},
		Log:    &gwtest.Log{Level: "warn"},
		Transports: []gwtest.Transport{
			gwtest.SMSTransport(secret, gwtest.SMS{AccountSID: benchSID, AuthToken: benchToken, APIURL: e.apiURL, Numbers: nums,
				RateLimits: &gwtest.SMSRates{NumberPerSecond: perNumber, TotalPerSecond: 1_000_000, UserPerHour: gwtest.NoLimit}}),
			gwtest.TelegramTransport(secret, gwtest.Telegram{Token: botToken, APIURL: e.tgURL}),
		},
	}
	return cfg.Write(filepath.Join(e.dir, name))
}

// startGateway execs the gateway and returns how long it took until its
// components were connected (GET /readyz answers 200).
func (e *env) startGateway(ctx context.Context, config string) (time.Duration, error) {
	e.logs.Reset()
	cmd := exec.Command(e.gateway, "run", "-config", filepath.Join(e.dir, config))
	cmd.Stdout, cmd.Stderr = e.logs, e.logs
	if e.pprof {
		cmd.Env = append(os.Environ(), "XMPPGW_PPROF=1")
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s (run `make build`): %w", e.gateway, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	e.proc, e.done = cmd, done
	if err := xmpptest.WaitReady(ctx, e.public+"/readyz", done); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, e.logs.String())
	}
	return time.Since(start), nil
}

func (e *env) stopGateway() {
	if e.proc == nil {
		return
	}
	e.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(20 * time.Second):
		e.proc.Process.Kill()
		<-e.done
	}
	e.proc = nil
}

func (e *env) close() {
	e.stopGateway()
	e.logout()
	if e.twilio != nil {
		e.twilio.Close()
	}
	if e.tg != nil {
		e.tg.Close()
	}
	for _, s := range e.servers {
		s.stop()
	}
}

// logout closes the c2s clients.
func (e *env) logout() {
	for _, c := range append(e.senders, e.receivers...) {
		c.Close()
	}
	e.recvWG.Wait()
	e.senders, e.receivers = nil, nil
}

// cpuTime is the gateway process's user+sys CPU time so far.
func (e *env) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", e.proc.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// peakRSS is the gateway process's peak resident set (VmHWM) in MiB.
func (e *env) peakRSS() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.proc.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, err := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", e.proc.Process.Pid)
}

// login connects the senders and receivers to the server in use;
// receivers count the messages of the current phase.
func (e *env) login(ctx context.Context) error {
	for i := range senders {
		s, err := xmpptest.Dial(ctx, e.srv.c2s, jid.MustParse(fmt.Sprintf("s%d@example.test/bench", i)), "pw")
		if err != nil {
			return err
		}
		e.senders = append(e.senders, s)
		r, err := xmpptest.Dial(ctx, e.srv.c2s, jid.MustParse(fmt.Sprintf("r%d@example.test/bench", i)), "pw")
		if err != nil {
			return err
		}
		e.receivers = append(e.receivers, r)
	}
	e.got = make([]atomic.Int64, senders)
	for i, r := range e.receivers {
		e.recvWG.Add(1)
		go func() {
			defer e.recvWG.Done()
			for {
				st, err := r.Next(context.Background())
				if err != nil {
					return
				}
				if st.Name == "message" && strings.HasPrefix(st.Body, e.phase.Load().(string)) {
					e.got[i].Add(1)
				}
			}
		}()
	}
	return nil
}

// seed fills the store as a long-running gateway's would be: links
// Telegram chats and queued SMS.
func (e *env) seed(ctx context.Context, links, queued int) error {
	s, err := mapping.OpenSQLite(ctx, e.store)
	if err != nil {
		return err
	}
	defer s.Close()
	ls := make([]mapping.Link, links)
	for i := range ls {
		ls[i] = mapping.Link{Remote: strconv.Itoa(100000000 + i), User: fmt.Sprintf("user%d@example.test", i%5000), Name: "Chat " + strconv.Itoa(i)}
	}
	if err := s.Links().ImportLinks(ctx, "telegram", ls); err != nil {
		return err
	}
	for k := range queued {
		_, _, err := s.Jobs().Enqueue(ctx, mapping.Job{Transport: "sms", Sender: "s0@example.test/seed", Account: senderNum(0),
			Remote: remote(k), Body: "queued " + strconv.Itoa(k), StanzaID: "seed-" + strconv.Itoa(k)})
		if err != nil {
			return err
		}
	}
	return nil
}
