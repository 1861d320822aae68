package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/internal/amtest"
	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/tguserfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/gwtest"
	"xmppgw/internal/xmpptest"
)

const (
	aliceNum    = "+15550001111" // gwtest's Config gives alice this number
	oncallNum   = "+15551234567"
	alertsToken = "demo-alerts-token-0123456789"
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

// steps counts the numbered steps.
var steps int

func step(format string, a ...any) {
	steps++
	fmt.Printf("==> %d. "+format+"\n", append([]any{steps}, a...)...)
}

// setup prints a step of the setup, unnumbered.
func setup(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }
func hop(format string, a ...any)   { fmt.Printf("    "+format+"\n", a...) }

func demo(ctx context.Context, gateway, dir string) error {
	dir, _ = filepath.Abs(dir)
	os.RemoveAll(dir)

	setup("starting a throwaway Prosody on loopback, the Twilio-compatible sandbox and the Telegram Bot API sandbox")
	env, err := gwtest.New(ctx, gwtest.Options{Users: map[string]string{"alice": "alice-pw", "bob": "bob-pw"}, Dir: dir, TelegramUser: true})
	if err != nil {
		return err
	}
	defer env.Close()
	p := env.Server.(*xmpptest.Prosody)
	sandbox, tg := env.Twilio, env.Bot
	public := env.Public
	hop("Prosody in %s: c2s on %s, component listener on %s, users alice@example.test and bob@example.test", p.Dir, p.C2SAddr, p.ComponentAddr)
	hop("Twilio Messages API at %s/2010-04-01/Accounts/%s/Messages.json (Basic auth)", env.SMS().APIURL, gwtest.TwilioSID)
	hop("Telegram Bot API at %s/bot<token>/<method>, bot @%s", env.Telegram().APIURL, tg.Bot().Username)
	hop("Telegram's MTProto (user API, layer 170) at %s, an in-process fake on gotd's tgtest server", env.MTProto.Addr())

	setup("starting Prometheus Alertmanager on loopback, its webhook receiver pointed at the gateway's /alerts")
	am, err := amtest.Start(ctx, amtest.Config{WebhookURL: public + "/alerts", Token: alertsToken, Dir: filepath.Join(dir, "alertmanager")})
	if err != nil {
		return err
	}
	defer am.Stop()
	hop("Alertmanager at %s, log %s", am.URL, am.LogPath)

	// The config names its secrets as an operator's would: ${VAR}s that
	// the gateway expands from its environment.
	env.Config.Alerts = &gwtest.Alerts{Token: "${ALERTS_TOKEN}", From: "alice@example.test", AlertmanagerURL: am.URL,
		Routes: []gwtest.Route{{Match: map[string]string{"severity": "critical"}, To: []string{"alice@example.test", oncallNum + "@sms.example.test"},
			Escalate: []gwtest.Escalation{{After: "3s", To: []string{"bob@example.test"}}}}}}
	sms, tgs := env.SMS(), env.Telegram()
	sms.AccountSID, sms.AuthToken, sms.DefaultRegion = "${TWILIO_ACCOUNT_SID}", "${TWILIO_AUTH_TOKEN}", "US"
	tgs.Token = "${TELEGRAM_BOT_TOKEN}"
	tgu := env.TelegramUser()
	tgu.SessionKey = "${TG_SESSION_KEY}"
	for i := range env.Config.Transports {
		env.Config.Transports[i].Secret = "${COMPONENT_SECRET}"
	}
	if err := env.Config.Write(env.ConfigPath); err != nil {
		return err
	}

	setup("starting the gateway: %s run -config %s", gateway, env.ConfigPath)
	logPath := filepath.Join(dir, "xmppgw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	gw, err := env.Exec(gateway, logFile, "COMPONENT_SECRET="+gwtest.ComponentKey,
		"ALERTS_TOKEN="+alertsToken, "TWILIO_ACCOUNT_SID="+gwtest.TwilioSID, "TWILIO_AUTH_TOKEN="+gwtest.TwilioToken, "TELEGRAM_BOT_TOKEN="+gwtest.BotToken,
		"TG_SESSION_KEY="+gwtest.TelegramSessionKey)
	if err != nil {
		return err
	}
	defer gw.Stop(syscall.SIGTERM, 20*time.Second)
	if err := env.Ready(ctx, gw); err != nil {
		return fmt.Errorf("%w; gateway log: %s", err, logPath)
	}
	hop("components sms.example.test, telegram.example.test and tg.example.test connected; webhooks at %s/hooks/", public)

	alice, err := xmpptest.Dial(ctx, p.C2SAddr, jid.MustParse("alice@example.test/demo"), "alice-pw")
	if err != nil {
		return err
	}
	defer alice.Close()
	bob, err := xmpptest.Dial(ctx, p.C2SAddr, jid.MustParse("bob@example.test/demo"), "bob-pw")
	if err != nil {
		return err
	}
	defer bob.Close()

	if err := onCall(ctx, am, sandbox, public, alice, bob); err != nil {
		return err
	}

	alert := "db1: disk /var 95% full, are you on it?"
	step("XMPP -> gateway: alice writes to the on-call phone herself")
	raw := fmt.Sprintf(`<message type="chat" id="alert-1" to="%s@sms.example.test"><body>%s</body><request xmlns="urn:xmpp:receipts"/></message>`, oncallNum, alert)
	hop("%s", raw)
	if err := alice.Send(ctx, raw); err != nil {
		return err
	}

	base := len(sandbox.Messages())
	msgs, err := sandbox.Wait(ctx, base+1)
	if err != nil {
		return err
	}
	m := msgs[base]
	step("gateway -> Twilio: POST /2010-04-01/Accounts/%s/Messages.json", gwtest.TwilioSID)
	hop("From=%s To=%s Body=%q", m.From, m.To, m.Body)
	hop("StatusCallback=%s -> 201 Created, sid %s", m.StatusCallback, m.SID)
	if err := wantSMS(m, aliceNum, oncallNum, alert); err != nil {
		return err
	}
	if !strings.HasPrefix(m.StatusCallback, public+"/hooks/sms/status") {
		return fmt.Errorf("status callback %q, want one at %s/hooks/sms/status", m.StatusCallback, public)
	}

	step("Twilio -> gateway: the on-call phone replies (signed webhook)")
	sid, status, err := sandbox.SendInbound(ctx, public+"/hooks/sms/inbound", oncallNum, aliceNum, "on it, looking at db1")
	if err != nil {
		return err
	}
	hop("POST %s/hooks/sms/inbound MessageSid=%s, X-Twilio-Signature checked -> HTTP %d", public, sid, status)
	if status != http.StatusOK {
		return fmt.Errorf("webhook answered %d", status)
	}

	step("gateway -> XMPP: alice receives the reply in the same chat")
	reply, err := alice.NextMessage(ctx)
	if err != nil {
		return err
	}
	hop("%s", reply.XML)
	if err := wantChat(reply, oncallNum+"@sms.example.test", "on it, looking at db1"); err != nil {
		return err
	}

	step("Twilio reports her message delivered: alice gets an XEP-0184 receipt")
	if _, err := sandbox.SendStatus(ctx, m, "delivered", ""); err != nil {
		return err
	}
	rcpt, err := alice.NextMessage(ctx)
	if err != nil {
		return err
	}
	hop("%s", rcpt.XML)
	if id, _, ok := child(rcpt.XML, "urn:xmpp:receipts", "received"); rcpt.From != oncallNum+"@sms.example.test" || !ok || id != "alert-1" {
		return fmt.Errorf("want a <received xmlns=\"urn:xmpp:receipts\" id=\"alert-1\"/> from %s@sms.example.test, got %s", oncallNum, rcpt.XML)
	}

	// The forgery is well formed (a MessageSid as Twilio's): only its
	// missing signature is wrong.
	forged := forgedSID()
	step("a forged webhook (MessageSid %s, no signature) is refused", forged)
	resp, err := http.PostForm(public+"/hooks/sms/inbound", sandbox.InboundForm(forged, oncallNum, aliceNum, "forged"))
	if err != nil {
		return err
	}
	resp.Body.Close()
	hop("HTTP %d", resp.StatusCode)
	if resp.StatusCode != http.StatusForbidden {
		return fmt.Errorf("a forged webhook: HTTP %d, want 403", resp.StatusCode)
	}

	if err := telegramDemo(ctx, alice, tg); err != nil {
		return err
	}
	if err := telegramUserDemo(ctx, alice, env.MTProto); err != nil {
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

	step("alice asks the Telegram gateway for a link code")
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
	code := regexp.MustCompile(`/link ([A-Z0-9]{8}) `).FindStringSubmatch(m.Body)
	if code == nil {
		return errors.New("no link code in the gateway's answer: " + m.XML)
	}
	howTo := "To link a Telegram chat, send /link " + code[1] + " to @" + tg.Bot().Username +
		" in that chat (for a group, add the bot to it first). The code works once, within 15 minutes."
	if m.Type != "chat" || m.Body != howTo {
		return fmt.Errorf("the gateway answered %s, want a chat message %q", m.XML, howTo)
	}

	step("in Telegram, the chat sends /link %s to the bot", code[1])
	tg.UserSends(chat, tgUser, "/link "+code[1])
	sub, err := next(ctx, alice, func(s xmpptest.Stanza) bool { return s.Name == "presence" && s.Type == "subscribe" })
	if err != nil {
		return err
	}
	hop("alice gets: %s", sub.XML)
	if sub.From != contact {
		return fmt.Errorf("a subscription request from %q, want %s", sub.From, contact)
	}
	if err := alice.Send(ctx, `<presence type="subscribed" to="`+contact+`"/>`); err != nil {
		return err
	}
	replies, err := tg.WaitSent(ctx, 1)
	if err != nil {
		return err
	}
	hop("bot answers in Telegram: %s", replies[0].Text)
	linked := "Linked: messages in this chat now reach alice@example.test over XMPP, as " + contact + "."
	if replies[0].Chat.ID != chat.ID || replies[0].Text != linked {
		return fmt.Errorf("the bot answered %q in chat %d, want %q in %d", replies[0].Text, replies[0].Chat.ID, linked, chat.ID)
	}

	step("Telegram -> XMPP: the chat writes, alice receives it from %s", contact)
	tg.UserSends(chat, tgUser, "restarting db1 now")
	got, err := next(ctx, alice, func(s xmpptest.Stanza) bool { return s.Name == "message" && s.From == contact })
	if err != nil {
		return err
	}
	hop("%s", got.XML)
	if err := wantChat(got, contact, "restarting db1 now"); err != nil {
		return err
	}

	step("XMPP -> Telegram: alice answers; the bot sends it with sendMessage")
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
	if sent[1].Chat.ID != chat.ID || sent[1].Text != "thanks, watching the graphs" {
		return fmt.Errorf("the bot sent %q to chat %d, want %q to %d", sent[1].Text, sent[1].Chat.ID, "thanks, watching the graphs", chat.ID)
	}
	return nil
}

// telegramUserDemo logs alice in to her own Telegram account from her XMPP
// client, with a two-step password, and chats with a Telegram contact of
// hers.
func telegramUserDemo(ctx context.Context, alice *xmpptest.Client, mt *tguserfake.Server) error {
	me := mt.AddUser(tguserfake.User{Phone: aliceNum, FirstName: "Alice", Password: "correct horse"})
	dana := mt.AddUser(tguserfake.User{Phone: "+15550004444", FirstName: "Dana", LastName: "Scully"})
	mt.AddContact(me.ID, dana.ID)
	contact := strconv.FormatInt(dana.ID, 10) + "@tg.example.test"

	command := func(id, form string) (xmpptest.Stanza, error) {
		raw := `<iq type="set" id="` + id + `" to="tg.example.test"><command xmlns="http://jabber.org/protocol/commands" node="login">` + form + `</command></iq>`
		hop("%s", raw)
		if err := alice.Send(ctx, raw); err != nil {
			return xmpptest.Stanza{}, err
		}
		return next(ctx, alice, func(s xmpptest.Stanza) bool { return s.ID == id })
	}
	answer := func(field, value string) string {
		return `<x xmlns="jabber:x:data" type="submit"><field var="` + field + `"><value>` + value + `</value></field></x>`
	}
	// ask checks that the gateway's answer s asks for field, alone.
	ask := func(s xmpptest.Stanza, field string) error {
		c := parseCommand(s)
		if c.Status != "executing" || len(c.Fields) != 1 || c.Fields[0].Var != field {
			return fmt.Errorf("want the command to ask for %s, got %s", field, s.XML)
		}
		hop("gateway asks %s: %q", field, c.Fields[0].Label)
		return nil
	}
	step("alice runs the command \"Log in to Telegram\" on tg.example.test (XEP-0050)")
	s, err := command("tu1", "")
	if err != nil {
		return err
	}
	if err := ask(s, "phone"); err != nil {
		return err
	}
	step("she gives her phone number; Telegram (auth.sendCode) sends her a code")
	if s, err = command("tu2", answer("phone", aliceNum)); err != nil {
		return err
	}
	if err := ask(s, "code"); err != nil {
		return err
	}
	code := mt.LastCode(aliceNum)
	if code == "" {
		return errors.New("Telegram sent no code to " + aliceNum)
	}
	step("she types the code %s; her account has a two-step password, so it is asked (SRP, auth.checkPassword)", code)
	if s, err = command("tu3", answer("code", code)); err != nil {
		return err
	}
	if err := ask(s, "password"); err != nil {
		return err
	}
	if s, err = command("tu4", answer("password", "correct horse")); err != nil {
		return err
	}
	done := "You are logged in to Telegram as Alice (" + aliceNum + "). Your chats are being added to your contacts."
	if c := parseCommand(s); c.Status != "completed" || c.Note != done {
		return errors.New("the login did not complete: " + s.XML)
	}
	hop("gateway: %s", done)

	step("her Telegram contact asks to join her roster, named as in Telegram")
	sub, err := next(ctx, alice, func(s xmpptest.Stanza) bool {
		return s.Name == "presence" && s.Type == "subscribe" && s.From == contact
	})
	if err != nil {
		return err
	}
	hop("%s", sub.XML)
	if _, nick, _ := child(sub.XML, "http://jabber.org/protocol/nick", "nick"); nick != "Dana Scully" {
		return fmt.Errorf("want the nick Dana Scully in %s", sub.XML)
	}

	step("Telegram -> XMPP: Dana writes to her; updates.getDifference reads it, alice receives it from %s", contact)
	mt.Post(dana.ID, tguserfake.Peer{User: me.ID}, "are you coming to the standup?", 0)
	got, err := next(ctx, alice, func(s xmpptest.Stanza) bool { return s.Name == "message" && s.From == contact })
	if err != nil {
		return err
	}
	hop("%s", got.XML)
	if err := wantChat(got, contact, "are you coming to the standup?"); err != nil {
		return err
	}

	step("XMPP -> Telegram: alice answers from her own account (messages.sendMessage)")
	raw := `<message type="chat" id="tu-1" to="` + contact + `"><body>on my way</body></message>`
	hop("%s", raw)
	if err := alice.Send(ctx, raw); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if sent := mt.Sent(me.ID); len(sent) > 0 && sent[len(sent)-1].Text == "on my way" && sent[len(sent)-1].Peer == (tguserfake.Peer{User: dana.ID}) {
			hop("Telegram has message %d from Alice to Dana: %q", sent[len(sent)-1].ID, sent[len(sent)-1].Text)
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("alice's message did not reach Telegram")
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// onCall is the on-call loop: an alert fires in Alertmanager, pages the
// phone and alice, the phone acknowledges by SMS, everyone is told, and
// the escalation to bob does not happen.
func onCall(ctx context.Context, am *amtest.Alertmanager, sandbox *twiliofake.Fake, public string, alice, bob *xmpptest.Client) error {
	step("Prometheus -> Alertmanager: DiskFull fires (POST %s/api/v2/alerts)", am.URL)
	disk := amtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
		Annotations: map[string]string{"summary": "/var is 95% full"}}
	if err := am.Fire(ctx, disk); err != nil {
		return err
	}

	step("Alertmanager -> gateway (POST /alerts) -> the phone by SMS, and alice by XMPP, with a code")
	msgs, err := sandbox.Wait(ctx, 1)
	if err != nil {
		return err
	}
	hop("SMS From=%s To=%s Body=%q", msgs[0].From, msgs[0].To, msgs[0].Body)
	page, err := next(ctx, alice, fromGateway)
	if err != nil {
		return err
	}
	hop("alice: %q", page.Body)
	code := regexp.MustCompile(`^#([A-Z0-9]+) `).FindStringSubmatch(page.Body)
	if code == nil {
		return errors.New("no code in the page: " + page.XML)
	}
	firing := "#" + code[1] + " [FIRING:1] DiskFull (severity=critical)\n- db-1: /var is 95% full\n"
	if err := wantSMS(msgs[0], aliceNum, oncallNum, firing+"Reply: ack "+code[1]); err != nil {
		return err
	}
	if page.Body != firing+`Reply "ack `+code[1]+`" to acknowledge.` {
		return fmt.Errorf("alice's page: %q", page.Body)
	}

	step("the phone texts back \"ack\" (a signed Twilio webhook)")
	acked := time.Now()
	if _, status, err := sandbox.SendInbound(ctx, public+"/hooks/sms/inbound", oncallNum, aliceNum, "ack"); err != nil || status != http.StatusOK {
		return fmt.Errorf("the phone's ack: %d %v", status, err)
	}

	step("everyone is told who acknowledged #%s", code[1])
	told, err := next(ctx, alice, fromGateway)
	if err != nil {
		return err
	}
	hop("alice: %q", told.Body)
	msgs, err = sandbox.Wait(ctx, 2)
	if err != nil {
		return err
	}
	hop("SMS To=%s Body=%q", msgs[1].To, msgs[1].Body)
	// The notice gives the time in minutes: any minute since the ack.
	var notices []string
	for at := acked.UTC().Truncate(time.Minute); !at.After(time.Now()); at = at.Add(time.Minute) {
		notices = append(notices, "#"+code[1]+" acknowledged by "+oncallNum+" at "+at.Format("15:04")+" UTC.")
	}
	if !slices.Contains(notices, told.Body) {
		return fmt.Errorf("alice was told %q, want one of %q", told.Body, notices)
	}
	if err := wantSMS(msgs[1], aliceNum, oncallNum, told.Body); err != nil {
		return err
	}

	step("bob, the lead, would get it after 3 s unacknowledged: waiting 4 s, he gets nothing")
	wait, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	m, err := next(wait, bob, func(s xmpptest.Stanza) bool { return s.Name == "message" })
	switch {
	case err == nil:
		return fmt.Errorf("bob got %s: an acknowledged alert escalated", m.XML)
	case !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return fmt.Errorf("waiting for bob's messages: %w", err)
	}
	// Nothing came, and not because his connection died.
	if err := bob.Ping(ctx); err != nil {
		return fmt.Errorf("bob's connection after the wait: %w", err)
	}
	hop("no escalation: #%s is acknowledged (bob's connection alive, nothing received)", code[1])
	return nil
}

// command is an XEP-0050 command in an iq result: its status, its form's
// fields and its note. An iq of another type is the zero command.
type command struct {
	Status string `xml:"status,attr"`
	Fields []struct {
		Var   string `xml:"var,attr"`
		Label string `xml:"label,attr"`
	} `xml:"jabber:x:data x>field"`
	Note string `xml:"note"`
}

func parseCommand(s xmpptest.Stanza) command {
	var iq struct {
		Command command `xml:"http://jabber.org/protocol/commands command"`
	}
	if s.Name != "iq" || s.Type != "result" || xml.Unmarshal([]byte(s.XML), &iq) != nil {
		return command{}
	}
	return iq.Command
}

// wantSMS checks a message sent through Twilio.
func wantSMS(m twiliofake.Message, from, to, body string) error {
	if m.From != from || m.To != to || m.Body != body {
		return fmt.Errorf("SMS From=%s To=%s Body=%q, want From=%s To=%s Body=%q", m.From, m.To, m.Body, from, to, body)
	}
	return nil
}

// wantChat checks a chat message received over XMPP.
func wantChat(s xmpptest.Stanza, from, body string) error {
	if s.Name != "message" || s.Type != "chat" || s.From != from || s.Body != body {
		return fmt.Errorf("want a chat message from %s with body %q, got %s", from, body, s.XML)
	}
	return nil
}

// child returns the id attribute and the text of the stanza raw's first
// child element space local.
func child(raw, space, local string) (id, text string, ok bool) {
	var v struct {
		Children []struct {
			XMLName xml.Name
			ID      string `xml:"id,attr"`
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if xml.Unmarshal([]byte(raw), &v) != nil {
		return "", "", false
	}
	for _, c := range v.Children {
		if c.XMLName.Space == space && c.XMLName.Local == local {
			return c.ID, c.Text, true
		}
	}
	return "", "", false
}

// forgedSID is a well-formed MessageSid: "SM" and 32 hex digits.
func forgedSID() string {
	var b [16]byte
	rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}

// fromGateway matches a chat message from the SMS gateway's own JID.
func fromGateway(s xmpptest.Stanza) bool {
	return s.Name == "message" && s.From == "sms.example.test" && s.Type == "chat"
}
