package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
	"xmppgw/mapping"
)

// senders is how many c2s senders and receivers there are.
const senders = 4

func senderNum(i int) string   { return fmt.Sprintf("+1555000%04d", i) }
func receiverNum(i int) string { return fmt.Sprintf("+1555001%04d", i) }
func remote(k int) string      { return fmt.Sprintf("+1555900%04d", k%100) }

// env is the XMPP server with the fakes (a gwtest.Env per server), the
// gateway process and the c2s clients.
type env struct {
	dir     string
	gateway string
	g       *gwtest.Env   // the server the gateway and the clients use now, and its fakes
	envs    []*gwtest.Env // every server started, to close
	twilio  *twiliofake.Fake
	public  string
	store   string // one store for every server, so the links seeded stay

	proc *gwtest.Process
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
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	e := &env{dir: dir, gateway: gateway, logs: &bytes.Buffer{}, store: filepath.Join(dir, "xmppgw.db")}
	e.phase.Store("none")
	if err := e.use(ctx, xmpptest.ServerProsody); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// serverName is the server in use, as the figures name it.
func (e *env) serverName() string {
	if e.g.Server.Kind() == xmpptest.ServerEjabberd {
		return "ejabberd"
	}
	return "Prosody"
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

// use starts the server (xmpptest.ServerProsody or ServerEjabberd) with
// its own fakes, and makes it the one in use, with the gateway's config
// for it in config.yaml.
func (e *env) use(ctx context.Context, server string) error {
	g, err := gwtest.New(ctx, gwtest.Options{Server: server, Users: benchUsers(), Dir: filepath.Join(e.dir, server)})
	if err != nil {
		return err
	}
	e.envs = append(e.envs, g)
	e.g, e.twilio, e.public = g, g.Twilio, g.Public
	return e.writeConfig("config.yaml", 1_000_000)
}

// useEjabberd starts ejabberd and makes it the server in use: the gateway
// is restarted on it and the clients log in to it.
func (e *env) useEjabberd(ctx context.Context) error {
	e.stopGateway()
	e.logout()
	if err := e.use(ctx, xmpptest.ServerEjabberd); err != nil {
		return err
	}
	if _, err := e.startGateway(ctx, "config.yaml"); err != nil {
		return err
	}
	return e.login(ctx)
}

// writeConfig writes, in the server's directory, a gateway config for the
// server in use whose SMS numbers may each send perNumber messages a
// second.
func (e *env) writeConfig(name string, perNumber float64) error {
	nums := map[string]string{}
	for i := range senders {
		nums[fmt.Sprintf("s%d@example.test", i)] = senderNum(i)
		nums[fmt.Sprintf("r%d@example.test", i)] = receiverNum(i)
	}
	cfg := e.g.Config
	cfg.Store.Path = e.store
	cfg.Log = &gwtest.Log{Level: "warn"}
	sms := e.g.SMS()
	sms.Numbers = nums
	sms.RateLimits = &gwtest.SMSRates{NumberPerSecond: perNumber, TotalPerSecond: 1_000_000, UserPerHour: gwtest.NoLimit}
	return cfg.Write(filepath.Join(e.g.Dir, name))
}

// startGateway execs the gateway and returns how long it took until its
// components were connected (GET /readyz answers 200).
func (e *env) startGateway(ctx context.Context, config string) (time.Duration, error) {
	e.logs.Reset()
	var env []string
	if e.pprof {
		env = append(env, "XMPPGW_PPROF=1")
	}
	start := time.Now()
	p, err := gwtest.Exec(e.gateway, filepath.Join(e.g.Dir, config), e.logs, env...)
	if err != nil {
		return 0, err
	}
	e.proc = p
	if err := e.g.Ready(ctx, p); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, e.logs.String())
	}
	return time.Since(start), nil
}

func (e *env) stopGateway() {
	if e.proc == nil {
		return
	}
	e.proc.Stop(syscall.SIGTERM, 20*time.Second)
	e.proc = nil
}

func (e *env) close() {
	e.stopGateway()
	e.logout()
	for _, g := range e.envs {
		g.Close()
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
	return procCPU(fmt.Sprintf("/proc/%d/stat", e.proc.Pid()))
}

// procCPU is a process's user+sys CPU time so far, from its stat file.
func procCPU(stat string) (time.Duration, error) {
	b, err := os.ReadFile(stat)
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

// peakRSS is the gateway's peak resident memory so far (VmHWM), in MiB.
func (e *env) peakRSS() (float64, error) {
	st, err := e.status()
	if err != nil {
		return 0, err
	}
	hwm, ok := st["VmHWM"]
	if !ok {
		return 0, fmt.Errorf("no VmHWM in /proc/%d/status", e.proc.Pid())
	}
	return hwm, nil
}

// rssParts is the gateway's resident memory now, by kind: anonymous (its
// heaps), file-backed and shared.
func (e *env) rssParts() string {
	st, err := e.status()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("anon %.1f MiB, file %.1f MiB, shmem %.1f MiB", st["RssAnon"], st["RssFile"], st["RssShmem"])
}

// status reads the gateway's /proc status fields given in kB, in MiB.
func (e *env) status() (map[string]float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.proc.Pid()))
	if err != nil {
		return nil, err
	}
	st := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		f := strings.Fields(v)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
			st[k] = kb / 1024
		}
	}
	return st, nil
}

// login connects the senders and receivers to the server in use;
// receivers count the messages of the current phase.
func (e *env) login(ctx context.Context) error {
	for i := range senders {
		s, err := xmpptest.Dial(ctx, e.g.Server.C2S(), jid.MustParse(fmt.Sprintf("s%d@example.test/bench", i)), "pw")
		if err != nil {
			return err
		}
		e.senders = append(e.senders, s)
		r, err := xmpptest.Dial(ctx, e.g.Server.C2S(), jid.MustParse(fmt.Sprintf("r%d@example.test/bench", i)), "pw")
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
