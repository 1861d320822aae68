// Command xmppgw-demo runs the gateway end to end on loopback and prints each
// hop: a throwaway Prosody, the gateway binary with its SQLite store, and a
// local Twilio-compatible sandbox and Telegram Bot API sandbox. An XMPP user
// sends an alert to a phone number; the sandbox receives it as Twilio would
// and sends a signed reply, which arrives back in the user's chat. Then the
// user links a Telegram chat with a one-time code and chats with it.
// `make demo` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

const (
	accountSID = "ACdemo0000000000000000000000000000"
	authToken  = "demotoken0000000000000000000000"
	aliceNum   = "+15550001111"
	oncallNum  = "+15551234567"
	botToken   = "7000001:demo-bot-token"
)

func main() {
	gateway := flag.String("gateway", "bin/xmppgw", "path of the xmppgw binary")
	dir := flag.String("dir", ".demo", "working directory (emptied first)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := demo(ctx, *gateway, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func step(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }
func hop(format string, a ...any)  { fmt.Printf("    "+format+"\n", a...) }

func demo(ctx context.Context, gateway, dir string) error {
	if err := xmpptest.Installed(); err != nil {
		return err
	}
	dir, _ = filepath.Abs(dir)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	step("starting a throwaway Prosody on loopback (%s)", filepath.Join(dir, "prosody"))
	p, err := xmpptest.StartProsody(ctx, xmpptest.ProsodyConfig{
		Domain:     "example.test",
		Components: map[string]string{"sms.example.test": "demo-secret-0123456789", "telegram.example.test": "demo-secret-0123456789"},
		Users:      map[string]string{"alice": "alice-pw"},
		Dir:        filepath.Join(dir, "prosody"),
	})
	if err != nil {
		return err
	}
	defer p.Stop()
	hop("c2s on %s, component listener on %s, user alice@example.test", p.C2SAddr, p.ComponentAddr)

	step("starting the Twilio-compatible sandbox")
	sandbox := twiliofake.New(accountSID, authToken)
	apiURL, err := sandbox.Start()
	if err != nil {
		return err
	}
	defer sandbox.Close()
	hop("Messages API at %s/2010-04-01/Accounts/%s/Messages.json (Basic auth)", apiURL, accountSID)

	step("starting the Telegram Bot API sandbox")
	tg := botfake.New(botToken)
	tgURL := tg.Start()
	defer tg.Close()
	hop("Bot API at %s/bot<token>/<method>, bot @%s", tgURL, tg.Bot().Username)

	port, err := xmpptest.FreePort()
	if err != nil {
		return err
	}
	public := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfgPath := filepath.Join(dir, "xmppgw.yaml")
	cfg := gwtest.Config{
		XMPP:   gwtest.XMPP{Server: p.ComponentAddr},
		Store:  gwtest.Store{Driver: "sqlite", Path: filepath.Join(dir, "xmppgw.db")},
		HTTP:   gwtest.HTTP{Listen: fmt.Sprintf("127.0.0.1:%d", port), PublicURL: public},
		Access: gwtest.Access{Allow: []string{"example.test"}},
		Transports: []gwtest.Transport{
			gwtest.SMSTransport("${SMS_COMPONENT_SECRET}", gwtest.SMS{AccountSID: "${TWILIO_ACCOUNT_SID}",
				AuthToken: "${TWILIO_AUTH_TOKEN}", APIURL: apiURL, DefaultRegion: "US",
				Numbers: map[string]string{"alice@example.test": aliceNum}}),
			gwtest.TelegramTransport("${TG_COMPONENT_SECRET}", gwtest.Telegram{Token: "${TELEGRAM_BOT_TOKEN}",
				APIURL: tgURL, Mode: "polling"}),
		},
	}
	if err := cfg.Write(cfgPath); err != nil {
		return err
	}

	step("starting the gateway: %s run -config %s", gateway, cfgPath)
	logPath := filepath.Join(dir, "xmppgw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(gateway, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), "SMS_COMPONENT_SECRET=demo-secret-0123456789",
		"TWILIO_ACCOUNT_SID="+accountSID, "TWILIO_AUTH_TOKEN="+authToken,
		"TG_COMPONENT_SECRET=demo-secret-0123456789", "TELEGRAM_BOT_TOKEN="+botToken)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s (run `make build`): %w", gateway, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	if err := xmpptest.WaitReady(ctx, public+"/readyz", exited); err != nil {
		return fmt.Errorf("%w; gateway log: %s", err, logPath)
	}
	hop("components sms.example.test and telegram.example.test connected; webhooks at %s/hooks/", public)

	alice, err := xmpptest.Dial(ctx, p.C2SAddr, jid.MustParse("alice@example.test/demo"), "alice-pw")
	if err != nil {
		return err
	}
	defer alice.Close()

	alert := "ALERT db1: disk /var 95% full"
	step("1. XMPP -> gateway: alice sends an alert to the on-call phone")
	raw := fmt.Sprintf(`<message type="chat" id="alert-1" to="%s@sms.example.test"><body>%s</body><request xmlns="urn:xmpp:receipts"/></message>`, oncallNum, alert)
	hop("%s", raw)
	if err := alice.Send(ctx, raw); err != nil {
		return err
	}

	msgs, err := sandbox.Wait(ctx, 1)
	if err != nil {
		return err
	}
	m := msgs[0]
	step("2. gateway -> Twilio: POST /2010-04-01/Accounts/%s/Messages.json", accountSID)
	hop("From=%s To=%s Body=%q", m.From, m.To, m.Body)
	hop("StatusCallback=%s -> 201 Created, sid %s", m.StatusCallback, m.SID)

	step("3. Twilio -> gateway: the on-call phone replies (signed webhook)")
	sid, status, err := sandbox.SendInbound(ctx, public+"/hooks/sms/inbound", oncallNum, aliceNum, "ack, looking at db1")
	if err != nil {
		return err
	}
	hop("POST %s/hooks/sms/inbound MessageSid=%s, X-Twilio-Signature checked -> HTTP %d", public, sid, status)
	if status != http.StatusOK {
		return fmt.Errorf("webhook answered %d", status)
	}

	step("4. gateway -> XMPP: alice receives the reply in the same chat")
	reply, err := alice.NextMessage(ctx)
	if err != nil {
		return err
	}
	hop("%s", reply.XML)
	if reply.Body != "ack, looking at db1" || reply.From != oncallNum+"@sms.example.test" {
		return errors.New("unexpected reply")
	}

	step("5. Twilio reports the alert delivered: alice gets an XEP-0184 receipt")
	if _, err := sandbox.SendStatus(ctx, m, "delivered", ""); err != nil {
		return err
	}
	rcpt, err := alice.NextMessage(ctx)
	if err != nil {
		return err
	}
	hop("%s", rcpt.XML)
	if !strings.Contains(rcpt.XML, `id="alert-1"`) {
		return errors.New("unexpected receipt")
	}

	step("6. a forged webhook (no signature) is refused")
	resp, err := http.PostForm(public+"/hooks/sms/inbound", sandbox.InboundForm("SMforged", oncallNum, aliceNum, "forged"))
	if err != nil {
		return err
	}
	resp.Body.Close()
	hop("HTTP %d", resp.StatusCode)

	if err := telegramDemo(ctx, alice, tg); err != nil {
		return err
	}

	fmt.Printf("\ndemo OK. Config: %s, gateway log: %s, Prosody log: %s\n", cfgPath, logPath, p.LogPath)
	return nil
}

// telegramDemo links a Telegram chat to alice with a code and chats with it.
func telegramDemo(ctx context.Context, alice *xmpptest.Client, tg *botfake.Fake) error {
	tgUser := botfake.User{ID: 424242, FirstName: "Oncall", LastName: "Phone"}
	chat := botfake.Chat{ID: 424242, Type: "private", FirstName: "Oncall", LastName: "Phone"}
	contact := "424242@telegram.example.test"

	step("7. alice asks the Telegram gateway for a link code")
	raw := `<message type="chat" to="telegram.example.test"><body>link</body></message>`
	hop("%s", raw)
	if err := alice.Send(ctx, raw); err != nil {
		return err
	}
	m, err := next(ctx, alice, func(s xmpptest.Stanza) bool { return s.Name == "message" && s.From == "telegram.example.test" })
	if err != nil {
		return err
	}
	hop("gateway: %s", m.Body)
	code := regexp.MustCompile(`/link ([A-Z0-9]{8})`).FindStringSubmatch(m.Body)
	if code == nil {
		return errors.New("no link code in the gateway's answer")
	}

	step("8. in Telegram, the chat sends /link %s to the bot", code[1])
	tg.UserSends(chat, tgUser, "/link "+code[1])
	sub, err := next(ctx, alice, func(s xmpptest.Stanza) bool { return s.Name == "presence" && s.Type == "subscribe" })
	if err != nil {
		return err
	}
	hop("alice gets: %s", sub.XML)
	if err := alice.Send(ctx, `<presence type="subscribed" to="`+contact+`"/>`); err != nil {
		return err
	}
	replies, err := tg.WaitSent(ctx, 1)
	if err != nil {
		return err
	}
	hop("bot answers in Telegram: %s", replies[0].Text)

	step("9. Telegram -> XMPP: the chat writes, alice receives it from %s", contact)
	tg.UserSends(chat, tgUser, "restarting db1 now")
	got, err := next(ctx, alice, func(s xmpptest.Stanza) bool { return s.Name == "message" && s.From == contact })
	if err != nil {
		return err
	}
	hop("%s", got.XML)

	step("10. XMPP -> Telegram: alice answers; the bot sends it with sendMessage")
	raw = `<message type="chat" id="tg-1" to="` + contact + `"><body>thanks, watching the graphs</body></message>`
	hop("%s", raw)
	if err := alice.Send(ctx, raw); err != nil {
		return err
	}
	sent, err := tg.WaitSent(ctx, 2)
	if err != nil {
		return err
	}
	hop("sendMessage chat_id=%d text=%q -> message_id %d", sent[1].Chat.ID, sent[1].Text, sent[1].MessageID)
	if sent[1].Text != "thanks, watching the graphs" {
		return errors.New("unexpected Telegram message")
	}
	return nil
}

// next returns c's next stanza that matches, skipping others.
func next(ctx context.Context, c *xmpptest.Client, match func(xmpptest.Stanza) bool) (xmpptest.Stanza, error) {
	for {
		s, err := c.Next(ctx)
		if err != nil || match(s) {
			return s, err
		}
	}
}
