//go:build integration

package main

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/internal/xmpptest"
)

// oobURL is the XEP-0066 URL of a message, or "".
var oobURL = regexp.MustCompile(`<url[^>]*>([^<]+)</url>`)

// fetch GETs u and returns its status, Content-Type and body.
func fetch(t *testing.T, u string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// Attachments both ways: an MMS reaches alice as an XEP-0066 URL served by
// the gateway; a file alice uploaded to a server Twilio and Telegram cannot
// reach goes out as an MMS (through the gateway) and as a Telegram photo
// (uploaded by the gateway).
func TestMedia(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		// The upload server is on the gateway's host: allowed, as an
		// operator allows an XMPP server's upload service.
		e := startEnv(t, envOptions{server: server, chats: map[string]string{"111": "alice@example.test"},
			fetchAllow: []string{"127.0.0.1"}})
		e.tg.AddChat(botfake.Chat{ID: 111, Type: "private", FirstName: "Dana"})
		ctx := testCtx(t)
		alice := e.login(t, "alice")

		// (a) Twilio MMS -> XMPP.
		photo := []byte("\x89PNG\r\n\x1a\nthe fake's picture")
		_, src, status, err := e.twilio.SendInboundMMS(ctx, e.public+"/hooks/sms/inbound", "+15551234567", aliceNum, "", "image/png", photo)
		if err != nil || status != 200 {
			t.Fatalf("inbound MMS webhook: %d, %v", status, err)
		}
		got := nextWhere(t, alice, "the MMS", func(s xmpptest.Stanza) bool { return strings.Contains(s.XML, "jabber:x:oob") })
		m := oobURL.FindStringSubmatch(got.XML)
		if got.From != "+15551234567@sms.example.test" || m == nil {
			t.Fatalf("alice got %s", got.XML)
		}
		u := html.UnescapeString(m[1])
		if !strings.HasPrefix(u, e.public+"/media/sms/") || strings.HasSuffix(u, ".png") == false ||
			strings.Contains(u, testToken) || strings.Contains(u, src) {
			t.Fatalf("OOB URL %q", u)
		}
		if code, ctype, body := fetch(t, u); code != 200 || ctype != "image/png" || string(body) != string(photo) {
			t.Fatalf("GET %s: %d %q %q", u, code, ctype, body)
		}
		if code, _, _ := fetch(t, strings.Replace(u, "/media/sms/", "/media/sms/x", 1)); code != 404 {
			t.Errorf("a forged media URL: %d, want 404", code)
		}

		// An upload server on loopback, as an XMPP server's XEP-0363 service.
		upload := []byte("\xff\xd8\xffalice's photo")
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/upload/3f2a/cat.jpg" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(upload)
		}))
		t.Cleanup(up.Close)
		file := up.URL + "/upload/3f2a/cat.jpg"
		oob := `<body>` + file + `</body><x xmlns="jabber:x:oob"><url>` + file + `</url></x>`

		// (b) XMPP -> MMS: Twilio gets a gateway URL that serves the file.
		if err := alice.Send(ctx, `<message type="chat" id="m1" to="+15557654321@sms.example.test">`+oob+`</message>`); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.twilio.Wait(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if mm := msgs[0]; mm.To != "+15557654321" || mm.Body != "" || len(mm.MediaURLs) != 1 ||
			!strings.HasPrefix(mm.MediaURLs[0], e.public+"/media/sms/out/") {
			t.Fatalf("Twilio got %+v", mm)
		}
		if code, ctype, body := fetch(t, msgs[0].MediaURLs[0]); code != 200 || ctype != "image/jpeg" || string(body) != string(upload) {
			t.Fatalf("GET %s: %d %q %q", msgs[0].MediaURLs[0], code, ctype, body)
		}

		// (c) XMPP -> Telegram: the gateway uploads the photo.
		if err := alice.Send(ctx, `<message type="chat" id="m2" to="111@telegram.example.test">`+oob+`</message>`); err != nil {
			t.Fatal(err)
		}
		sent, err := e.tg.WaitMedia(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s := sent[0]; s.Method != "sendPhoto" || s.ChatID != 111 || s.URL != "" || string(s.Data) != string(upload) ||
			s.Caption != "" || s.FileName != "cat.jpg" {
			t.Fatalf("Telegram got %+v", s)
		}
	})
}
