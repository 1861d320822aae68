//go:build integration

package main

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"html"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/fake/twiliofake"
	"xmppgw/internal/xmpptest"
)

// TestReceiptsAndMarkers: XEP-0184 receipts and XEP-0333 "received"
// markers come back when Twilio reports delivery, and when the Bot API
// accepts a message (it reports nothing later).
func TestReceiptsAndMarkers(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		e.tg.AddChat(botfake.Chat{ID: 111, Type: "private", FirstName: "Dana"})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		const asks = `<request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/>`

		alice.Send(ctx, `<message type="chat" id="s1" to="+15557654321@sms.example.test"><body>deploy done</body>`+asks+`</message>`)
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := e.twilio.SendStatus(ctx, msgs[0], "delivered", ""); err != nil || st/100 != 2 {
			t.Fatalf("status callback: %d %v", st, err)
		}
		got := nextWhere(t, alice, "the SMS receipt", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "received") })
		if got.From != "+15557654321@sms.example.test" || !strings.Contains(got.XML, `<received xmlns="urn:xmpp:receipts" id="s1">`) ||
			!strings.Contains(got.XML, `<received xmlns="urn:xmpp:chat-markers:0" id="s1">`) {
			t.Errorf("SMS receipt: %s", got.XML)
		}

		alice.Send(ctx, `<message type="chat" id="t1" to="111@telegram.example.test"><body>on it</body>`+asks+`</message>`)
		got = nextWhere(t, alice, "the Telegram receipt", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "received") })
		if got.From != "111@telegram.example.test" || !strings.Contains(got.XML, `<received xmlns="urn:xmpp:receipts" id="t1">`) ||
			!strings.Contains(got.XML, `<received xmlns="urn:xmpp:chat-markers:0" id="t1">`) {
			t.Errorf("Telegram receipt: %s", got.XML)
		}
		if sent := e.tg.SentTo(111); len(sent) != 1 || sent[0].Text != "on it" {
			t.Errorf("Telegram got %+v", sent)
		}
	})
}

// TestGroupTextAndCorrection: an XEP-0033 message to the gateway JID is
// sent to each number, with each number's failure reported from its own
// JID; an XEP-0308 correction becomes an SMS marked as one.
func TestGroupTextAndCorrection(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server})
		e.twilio.OnSend(func(m twiliofake.Message) *twiliofake.APIError {
			if m.To == "+15550009999" {
				return &twiliofake.APIError{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"}
			}
			return nil
		})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		alice.Send(ctx, `<message type="chat" id="g1" to="sms.example.test"><body>standup moved to 10:30</body>`+
			`<addresses xmlns="http://jabber.org/protocol/address">`+
			`<address type="to" jid="+15557654321@sms.example.test"/>`+
			`<address type="to" jid="+15550009999@sms.example.test"/>`+
			`<address type="cc" jid="+15551112222@sms.example.test"/>`+
			`</addresses></message>`)
		failed := nextWhere(t, alice, "the failure of one number", func(s xmpptest.Stanza) bool { return s.ID == "g1" })
		if failed.Type != "error" || failed.From != "+15550009999@sms.example.test" || !strings.Contains(failed.ErrorText, "21610") {
			t.Errorf("per-number failure: %s", failed.XML)
		}
		msgs, err := e.twilio.Wait(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		to := map[string]string{}
		for _, m := range msgs {
			to[m.To] = m.Body
			if m.From != aliceNum {
				t.Errorf("sent from %s", m.From)
			}
		}
		if to["+15557654321"] != "standup moved to 10:30" || to["+15551112222"] != "standup moved to 10:30" || len(to) != 2 {
			t.Errorf("group text sent as %v", to)
		}

		alice.Send(ctx, `<message type="chat" id="c1" to="+15557654321@sms.example.test"><body>db is down</body></message>`)
		if _, err := e.twilio.Wait(ctx, 3); err != nil {
			t.Fatal(err)
		}
		alice.Send(ctx, `<message type="chat" id="c2" to="+15557654321@sms.example.test"><body>db is up</body><replace xmlns="urn:xmpp:message-correct:0" id="c1"/></message>`)
		msgs, err = e.twilio.Wait(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		if last := msgs[3]; last.Body != "Correction: db is up" || last.To != "+15557654321" {
			t.Errorf("correction sent as %+v", last)
		}
	})
}

// TestRepliesAndRetraction: XEP-0461 replies map to and from Telegram's
// reply_to_message, with XEP-0428 fallback quotes; an XEP-0424 retraction
// deletes the Telegram message. On SMS a reply starts with a short quote
// and a retraction is refused.
func TestRepliesAndRetraction(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		contact := "111@telegram.example.test"

		m1 := e.tg.UserSends(tgDM, tgAlice, "is the db down?")
		got := nextWhere(t, alice, "the question", func(s xmpptest.Stanza) bool { return s.Body == "is the db down?" })
		// The client quotes it: "> is the db down?\n" is 18 characters.
		alice.Send(ctx, `<message type="chat" id="r1" to="`+contact+`"><body>&gt; is the db down?
yes, restarting</body><request xmlns="urn:xmpp:receipts"/><reply xmlns="urn:xmpp:reply:0" id="`+got.ID+`" to="`+contact+`"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="18"/></fallback></message>`)
		sent, err := e.tg.WaitSent(ctx, 1)
		if err != nil || sent[0].Text != "yes, restarting" || sent[0].ReplyToMessage == nil || sent[0].ReplyToMessage.MessageID != m1.MessageID {
			t.Fatalf("Telegram got %+v, %v", sent, err)
		}

		// The receipt comes once the gateway has recorded the send.
		nextWhere(t, alice, "the receipt", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, `id="r1"`) })
		e.tg.UserReplies(tgDM, tgAlice, "thanks", sent[0])
		got = nextWhere(t, alice, "the reply", func(s xmpptest.Stanza) bool { return strings.HasSuffix(s.Body, "thanks") })
		var r struct {
			Reply struct {
				ID string `xml:"id,attr"`
				To string `xml:"to,attr"`
			} `xml:"urn:xmpp:reply:0 reply"`
			Fallback struct {
				For  string `xml:"for,attr"`
				Body struct {
					Start string `xml:"start,attr"`
					End   string `xml:"end,attr"`
				} `xml:"body"`
			} `xml:"urn:xmpp:fallback:0 fallback"`
		}
		if err := xml.Unmarshal([]byte(got.XML), &r); err != nil || got.Body != "> yes, restarting\nthanks" ||
			r.Reply.ID != "r1" || r.Reply.To != "alice@example.test" || r.Fallback.For != "urn:xmpp:reply:0" ||
			r.Fallback.Body.Start != "0" || r.Fallback.Body.End != "18" {
			t.Errorf("reply from Telegram: %s (%+v)", got.XML, r)
		}

		alice.Send(ctx, `<message type="chat" id="d1" to="`+contact+`"><body>/me retracted a message</body><retract xmlns="urn:xmpp:message-retract:1" id="r1"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:message-retract:1"/></message>`)
		if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.Deleted()) == 1 }); err != nil {
			t.Fatal("no deleteMessage:", err)
		}
		if d := e.tg.Deleted()[0]; d.ChatID != 111 || d.MessageID != sent[0].MessageID {
			t.Errorf("deleted %+v, want message %d", d, sent[0].MessageID)
		}
		if n := len(e.tg.Sent()); n != 1 {
			t.Errorf("%d messages sent, want 1 (a retraction sends nothing)", n)
		}

		// SMS: a short quote, and a refused retraction.
		quote := "> the backup job failed again last night, can you look\n"
		alice.Send(ctx, `<message type="chat" id="s1" to="+15557654321@sms.example.test"><body>`+html.EscapeString(quote)+`looking now</body><reply xmlns="urn:xmpp:reply:0" id="SMx"/><fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="`+strconv.Itoa(utf8.RuneCountInString(quote))+`"/></fallback></message>`)
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil || msgs[0].Body != "> the backup job failed again last night,…\nlooking now" {
			t.Fatalf("SMS reply sent as %+v, %v", msgs, err)
		}
		alice.Send(ctx, `<message type="chat" id="s2" to="+15557654321@sms.example.test"><retract xmlns="urn:xmpp:message-retract:1" id="s1"/></message>`)
		refused := nextWhere(t, alice, "the refused retraction", func(s xmpptest.Stanza) bool { return s.ID == "s2" })
		if refused.Type != "error" || refused.ErrorCondition != "not-acceptable" || !strings.Contains(refused.ErrorText, "an SMS cannot be deleted once sent") {
			t.Errorf("SMS retraction: %s", refused.XML)
		}
	})
}

// TestReactions: XEP-0444 reactions map to and from Telegram's
// setMessageReaction and message_reaction updates; on SMS they are said in
// words.
func TestReactions(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		contact := "111@telegram.example.test"
		react := func(id, target, emoji string) {
			alice.Send(ctx, `<message type="chat" id="`+id+`" to="`+contact+`"><reactions xmlns="urn:xmpp:reactions:0" id="`+target+
				`"><reaction>`+emoji+`</reaction></reactions><store xmlns="urn:xmpp:hints"/></message>`)
		}

		m1 := e.tg.UserSends(tgDM, tgAlice, "deploy?")
		got := nextWhere(t, alice, "the question", func(s xmpptest.Stanza) bool { return s.Body == "deploy?" })
		react("re1", got.ID, "👍")
		if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.Reactions()) == 1 }); err != nil {
			t.Fatal("no setMessageReaction:", err)
		}
		if r := e.tg.Reactions()[0]; r.ChatID != 111 || r.MessageID != m1.MessageID || r.Emoji != "👍" {
			t.Errorf("reaction %+v, want 👍 on message %d", r, m1.MessageID)
		}
		// Telegram takes only its own set of emoji.
		react("re2", got.ID, "🦀")
		refused := nextWhere(t, alice, "the refused reaction", func(s xmpptest.Stanza) bool { return s.ID == "re2" })
		if refused.Type != "error" || refused.ErrorCondition != "not-acceptable" || !strings.Contains(refused.ErrorText, "REACTION_INVALID") {
			t.Errorf("invalid reaction: %s", refused.XML)
		}

		alice.Send(ctx, `<message type="chat" id="x1" to="`+contact+`"><body>shipped</body><request xmlns="urn:xmpp:receipts"/></message>`)
		nextWhere(t, alice, "the receipt", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, `id="x1"`) })
		sent := e.tg.SentTo(111)
		e.tg.UserReacts(tgDM, tgAlice, sent[len(sent)-1].MessageID, "🎉")
		got = nextWhere(t, alice, "the reaction", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "urn:xmpp:reactions:0") })
		var r struct {
			Reactions struct {
				ID        string   `xml:"id,attr"`
				Reactions []string `xml:"reaction"`
			} `xml:"urn:xmpp:reactions:0 reactions"`
		}
		if err := xml.Unmarshal([]byte(got.XML), &r); err != nil || got.From != contact || r.Reactions.ID != "x1" ||
			len(r.Reactions.Reactions) != 1 || r.Reactions.Reactions[0] != "🎉" {
			t.Errorf("reaction from Telegram: %s", got.XML)
		}

		alice.Send(ctx, `<message type="chat" id="s1" to="+15557654321@sms.example.test"><reactions xmlns="urn:xmpp:reactions:0" id="SMx"><reaction>👍</reaction></reactions></message>`)
		if msgs, err := e.twilio.Wait(ctx, 1); err != nil || msgs[0].Body != "Reacted 👍" {
			t.Errorf("SMS reaction sent as %+v, %v", msgs, err)
		}
	})
}

// TestTelegramPartsAttachmentsAndEdits: a reaction and a reply in Telegram
// to the second part of a long message from XMPP refer to the XMPP
// message; a reaction from XMPP to a captioned photo's attachment stanza
// reaches the photo; a caption added to a photo sent without one arrives
// as a correction that keeps the photo's link.
func TestTelegramPartsAttachmentsAndEdits(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		contact := "111@telegram.example.test"

		e.tg.AddChat(tgDM)
		long := strings.Repeat("x", 4096) + " tail"
		alice.Send(ctx, `<message type="chat" id="long1" to="`+contact+`"><body>`+long+`</body><request xmlns="urn:xmpp:receipts"/></message>`)
		rc := nextWhere(t, alice, "the receipt", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, `id="long1"`) })
		sent := e.tg.SentTo(111)
		if len(sent) != 2 {
			t.Fatalf("Telegram got %d messages, want 2 parts (%s)", len(sent), rc.XML)
		}
		e.tg.UserReplies(tgDM, tgAlice, "got it", sent[1])
		got := nextWhere(t, alice, "the reply", func(s xmpptest.Stanza) bool { return strings.HasSuffix(s.Body, "got it") })
		if !strings.Contains(got.XML, `id="long1"`) || !strings.Contains(got.XML, "urn:xmpp:reply:0") {
			t.Errorf("reply to part 2 from Telegram: %s", got.XML)
		}
		e.tg.UserReacts(tgDM, tgAlice, sent[1].MessageID, "🎉")
		got = nextWhere(t, alice, "the reaction", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "urn:xmpp:reactions:0") })
		var r struct {
			Reactions struct {
				ID string `xml:"id,attr"`
			} `xml:"urn:xmpp:reactions:0 reactions"`
		}
		if err := xml.Unmarshal([]byte(got.XML), &r); err != nil || r.Reactions.ID != "long1" {
			t.Errorf("reaction to part 2 from Telegram: %s", got.XML)
		}

		photo := []byte("\xff\xd8\xff\xe0 a photo")
		m := e.tg.UserSendsPhoto(tgDM, tgAlice, "look", photo)
		att := nextWhere(t, alice, "the photo", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "jabber:x:oob") })
		alice.Send(ctx, `<message type="chat" id="re1" to="`+contact+`"><reactions xmlns="urn:xmpp:reactions:0" id="`+att.ID+
			`"><reaction>👍</reaction></reactions><store xmlns="urn:xmpp:hints"/></message>`)
		if err := e.tg.WaitFor(ctx, func() bool { return len(e.tg.Reactions()) == 1 }); err != nil {
			t.Fatal("no setMessageReaction for the attachment's stanza:", err)
		}
		if rr := e.tg.Reactions()[0]; rr.MessageID != m.MessageID {
			t.Errorf("reaction %+v, want on message %d", rr, m.MessageID)
		}

		bare := e.tg.UserSendsPhoto(tgDM, tgAlice, "", photo)
		orig := nextWhere(t, alice, "the bare photo", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "jabber:x:oob") })
		e.tg.UserEdits(tgDM, tgAlice, bare.MessageID, "the view")
		corr := nextWhere(t, alice, "the correction", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "urn:xmpp:message-correct:0") })
		// The link is signed anew (its expiry may be a second later): the
		// same file, under the same media path, is what must hold.
		link, ok := strings.CutPrefix(corr.Body, "the view\n")
		if !strings.Contains(corr.XML, `id="`+orig.ID+`"`) || !ok || mediaFile(link) == "" || mediaFile(link) != mediaFile(orig.Body) ||
			!strings.Contains(corr.XML, "jabber:x:oob") {
			t.Errorf("caption added to %s: %s", orig.XML, corr.XML)
		}
	})
}

// mediaFile is a media link's transport and file, without its signature
// and expiry: /media/TRANSPORT/SIG/EXPIRY/FILE... -> TRANSPORT FILE...
func mediaFile(link string) string {
	_, rest, ok := strings.Cut(link, "/media/")
	parts := strings.SplitN(rest, "/", 4)
	if !ok || len(parts) < 4 {
		return ""
	}
	return parts[0] + " " + parts[3]
}

// TestContactVCard: a contact's vCard (XEP-0054) carries the Telegram
// person's name and profile photo; an SMS contact's, its number.
func TestContactVCard(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"}})
		ctx := testCtx(t)
		alice := e.login(t, "alice")
		photo := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRfake-avatar")
		e.tg.SetProfilePhoto(111, photo)
		e.tg.UserSends(tgDM, tgAlice, "hello") // a config link learns the name with the first message
		// The first message, and then (XEP-0153) the contact's presence with
		// the SHA-1 of its picture, learned in the background.
		var hello, update bool
		for !hello || !update {
			st := nextWhere(t, alice, "the first message and the picture's hash", func(s xmpptest.Stanza) bool {
				return s.Body == "hello" || s.Name == "presence" && s.Type == "" && s.From == "111@telegram.example.test" &&
					strings.Contains(s.XML, "vcard-temp:x:update")
			})
			if st.Name != "presence" {
				hello = true
				continue
			}
			update = true
			var x struct {
				Photo *string `xml:"x>photo"`
			}
			sum := sha1.Sum(photo)
			if err := xml.Unmarshal([]byte(st.XML), &x); err != nil || x.Photo == nil || *x.Photo != hex.EncodeToString(sum[:]) {
				t.Errorf("presence with the picture's hash: %s", st.XML)
			}
		}

		var card struct {
			FN    string `xml:"vCard>FN"`
			Type  string `xml:"vCard>PHOTO>TYPE"`
			Photo string `xml:"vCard>PHOTO>BINVAL"`
		}
		alice.Send(ctx, `<iq type="get" id="v1" to="111@telegram.example.test"><vCard xmlns="vcard-temp"/></iq>`)
		got := nextWhere(t, alice, "the vCard", func(s xmpptest.Stanza) bool { return s.ID == "v1" })
		if err := xml.Unmarshal([]byte(got.XML), &card); err != nil || got.Type != "result" || card.FN != "Alice Tg" ||
			card.Type != "image/png" || card.Photo != base64.StdEncoding.EncodeToString(photo) {
			t.Errorf("Telegram vCard: %s (%+v)", got.XML, card)
		}
		alice.Send(ctx, `<iq type="get" id="v2" to="+15557654321@sms.example.test"><vCard xmlns="vcard-temp"/></iq>`)
		got = nextWhere(t, alice, "the SMS vCard", func(s xmpptest.Stanza) bool { return s.ID == "v2" })
		card.FN, card.Photo = "", ""
		if err := xml.Unmarshal([]byte(got.XML), &card); err != nil || card.FN != "+15557654321" || card.Photo != "" {
			t.Errorf("SMS vCard: %s", got.XML)
		}
		alice.Send(ctx, `<iq type="get" id="v3" to="222@telegram.example.test"><vCard xmlns="vcard-temp"/></iq>`)
		if got := nextWhere(t, alice, "the refusal", func(s xmpptest.Stanza) bool { return s.ID == "v3" }); got.ErrorCondition != "item-not-found" {
			t.Errorf("vCard of an unlinked chat: %s", got.XML)
		}
	})
}
