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
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

const (
	aliceNum  = "+15550001111" // gwtest's Config gives alice this number
	oncallNum = "+15551234567"
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
	dir, _ = filepath.Abs(dir)
	os.RemoveAll(dir)

	step("starting a throwaway Prosody on loopback, the Twilio-compatible sandbox and the Telegram Bot API sandbox")
	env, err := gwtest.New(ctx, gwtest.Options{Users: map[string]string{"alice": "alice-pw"}, Dir: dir})
	if err != nil {
		return err
	}
	defer env.Close()
	p := env.Server.(*xmpptest.Prosody)
	sandbox, tg := env.Twilio, env.Bot
	public := env.Public
	hop("Prosody in %s: c2s on %s, component listener on %s, user alice@example.test", p.Dir, p.C2SAddr, p.ComponentAddr)
	hop("Twilio Messages API at %s/2010-04-01/Accounts/%s/Messages.json (Basic auth)", env.SMS().APIURL, gwtest.TwilioSID)
	hop("Telegram Bot API at %s/bot<token>/<method>, bot @%s", env.Telegram().APIURL, tg.Bot().Username)

	// The config names its secrets as an operator's would: ${VAR}s that
	// the gateway expands from its environment.
	sms, tgs := env.SMS(), env.Telegram()
	sms.AccountSID, sms.AuthToken, sms.DefaultRegion = "${TWILIO_ACCOUNT_SID}", "${TWILIO_AUTH_TOKEN}", "US"
	tgs.Token = "${TELEGRAM_BOT_TOKEN}"
	for i := range env.Config.Transports {
		env.Config.Transports[i].Secret = "${COMPONENT_SECRET}"
	}
	if err := env.Config.Write(env.ConfigPath); err != nil {
		return err
	}

	step("starting the gateway: %s run -config %s", gateway, env.ConfigPath)
	logPath := filepath.Join(dir, "xmppgw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	gw, err := env.Exec(gateway, logFile, "COMPONENT_SECRET="+gwtest.ComponentKey,
		"TWILIO_ACCOUNT_SID="+gwtest.TwilioSID, "TWILIO_AUTH_TOKEN="+gwtest.TwilioToken, "TELEGRAM_BOT_TOKEN="+gwtest.BotToken)
	if err != nil {
		return err
	}
	defer gw.Stop(syscall.SIGTERM, 20*time.Second)
	if err := env.Ready(ctx, gw); err != nil {
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
	step("2. gateway -> Twilio: POST /2010-04-01/Accounts/%s/Messages.json", gwtest.TwilioSID)
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

	fmt.Printf("\ndemo OK. Config: %s, gateway log: %s, Prosody log: %s\n", env.ConfigPath, logPath, p.LogPath)
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
