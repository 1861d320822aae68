package telegramuser

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gotd/td/tgerr"

	"xmppgw/transports"
)

func TestValidate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}))
	good := func() Settings {
		return Settings{APIID: 1, APIHash: strings.Repeat("a", 32), SessionKey: strings.Repeat("k", 32)}
	}
	tests := []struct {
		name string
		edit func(s *Settings)
		want string // the problems, "key: msg" joined with "; "
	}{
		{"good", func(*Settings) {}, ""},
		{"empty", func(s *Settings) { *s = Settings{} },
			"api_id: required: the api_id of your application at https://my.telegram.org; " +
				"api_hash: required: the 32-character api_hash of your application at https://my.telegram.org; " +
				"session_key: required: at least 32 characters, kept secret (for example ${TG_SESSION_KEY})"},
		{"short key", func(s *Settings) { s.SessionKey = "short" },
			"session_key: required: at least 32 characters, kept secret (for example ${TG_SESSION_KEY})"},
		{"server", func(s *Settings) { s.Server = &Server{Address: "127.0.0.1:4430", PublicKey: pub} }, ""},
		{"bad server", func(s *Settings) { s.Server = &Server{Address: "nowhere", DC: -1, PublicKey: "nope"} },
			`server.address: want HOST:PORT, got "nowhere"; server.dc: want a positive DC id; ` +
				"server.public_key: want an RSA public key in PEM (-----BEGIN RSA PUBLIC KEY-----)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.edit(&s)
			var got []string
			for _, p := range s.Validate() {
				got = append(got, p.Key+": "+p.Msg)
			}
			if g := strings.Join(got, "; "); g != tt.want {
				t.Errorf("problems:\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
	s := good()
	s.Server = &Server{Address: "127.0.0.1:4430", PublicKey: pub}
	s.Validate()
	if s.Server.DC != 2 || s.Server.host != "127.0.0.1" || s.Server.port != 4430 || !s.Server.key.Equal(&key.PublicKey) {
		t.Errorf("server: %+v", s.Server)
	}
}

func TestParseAddr(t *testing.T) {
	tr := &Transport{}
	for in, want := range map[string]string{"123456789": "", "-5000001": "", "0": "not a Telegram", "12a": "not a Telegram",
		"+123": "not a Telegram", "99999999999999999999": "not a Telegram", "": "not a Telegram"} {
		a, err := tr.ParseAddr(in)
		switch {
		case want == "" && (err != nil || string(a) != in):
			t.Errorf("ParseAddr(%q) = %q, %v", in, a, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("ParseAddr(%q) = %q, %v; want an error with %q", in, a, err, want)
		}
	}
}

func TestParsePhone(t *testing.T) {
	for in, want := range map[string]string{"+1 555 000-1111": "+15550001111", "15550001111": "+15550001111",
		"12345": "", "+1555abc": "", "1+5550001111": "", "+1234567890123456": ""} {
		got, err := parsePhone(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("parsePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestLoginError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{tgerr.New(400, "PHONE_CODE_INVALID"), "the code is wrong or expired"},
		{tgerr.New(400, "PHONE_CODE_EXPIRED"), "the code is wrong or expired"},
		{tgerr.New(400, "PHONE_NUMBER_INVALID"), "Telegram has no account with this phone number"},
		{tgerr.New(400, "PASSWORD_HASH_INVALID"), "the password is wrong"},
		{tgerr.New(420, "FLOOD_WAIT_42"), "Telegram asks to wait 42 s before trying again"},
		{fmt.Errorf("invoke: %w", tgerr.New(420, "FLOOD_WAIT_7")), "Telegram asks to wait 7 s before trying again"},
		{errors.New("boom"), "Telegram refused: boom"},
	} {
		var le *transports.LoginError
		if err := loginError(tt.err); !errors.As(err, &le) || le.Msg != tt.want {
			t.Errorf("loginError(%v) = %v, want %q", tt.err, err, tt.want)
		}
	}
}

func TestSendError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind transports.Kind
	}{
		{tgerr.New(420, "FLOOD_WAIT_3"), transports.KindRateLimited},
		{tgerr.New(401, "AUTH_KEY_UNREGISTERED"), transports.KindAuth},
		{tgerr.New(400, "PEER_ID_INVALID"), transports.KindInvalidAddress},
		{tgerr.New(403, "USER_IS_BLOCKED"), transports.KindUnreachable},
		{tgerr.New(500, "INTERNAL"), transports.KindUnavailable},
		{tgerr.New(400, "MESSAGE_TOO_LONG"), transports.KindRejected},
		{context.DeadlineExceeded, transports.KindUnavailable},
		{tgerr.New(-503, "Timeout"), transports.KindUnavailable}, // Telegram's internal timeout
	} {
		var te *transports.Error
		if err := sendError(tt.err); !errors.As(err, &te) || te.Kind != tt.kind {
			t.Errorf("sendError(%v) = %v, want kind %v", tt.err, err, tt.kind)
		}
	}
	// A failed look-up of a chat delays the message, whatever Telegram
	// said, but for a session gone or a wait asked for.
	for _, tt := range []struct {
		err  error
		kind transports.Kind
	}{
		{tgerr.New(400, "MESSAGE_TOO_LONG"), transports.KindUnavailable},
		{tgerr.New(400, "PEER_ID_INVALID"), transports.KindUnavailable},
		{tgerr.New(403, "CHAT_WRITE_FORBIDDEN"), transports.KindUnavailable},
		{errors.New("boom"), transports.KindUnavailable},
		{tgerr.New(420, "FLOOD_WAIT_3"), transports.KindRateLimited},
		{tgerr.New(401, "AUTH_KEY_UNREGISTERED"), transports.KindAuth},
	} {
		var te *transports.Error
		if err := lookupError(tt.err); !errors.As(err, &te) || te.Kind != tt.kind {
			t.Errorf("lookupError(%v) = %v, want kind %v", tt.err, err, tt.kind)
		}
	}
	if d := sendError(tgerr.New(420, "FLOOD_WAIT_3")).(*transports.Error).RetryAfter; d.Seconds() != 3 {
		t.Errorf("FLOOD_WAIT_3's RetryAfter: %v", d)
	}
}

// TestRandomID: a job's random_id is stable (a retry is the same send) and
// differs between jobs.
func TestRandomID(t *testing.T) {
	if randomID("42") != randomID("42") || randomID("42") == randomID("43") {
		t.Error("random_id is not a stable function of the job id")
	}
}
