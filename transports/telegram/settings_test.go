package telegram

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want []string // "key: msg"
	}{
		{"defaults", Settings{Token: "1:a"}, nil},
		{"missing token", Settings{}, []string{"token: is required (get one from @BotFather)"}},
		{"malformed token is not quoted", Settings{Token: "secret-no-colon"},
			[]string{"token: is not a bot token (want digits, a colon, then letters, digits, _ or -)"}},
		{"bad api_url", Settings{Token: "1:a", APIURL: "ftp://x"}, []string{"api_url: must be an absolute http or https URL"}},
		{"local mode on Telegram's own server", Settings{Token: "1:a", LocalMode: true, APIURL: "https://API.Telegram.org/"},
			[]string{"local_mode: is for a self-hosted Bot API server run with --local, not https://API.Telegram.org (set api_url to your server)"}},
		{"local mode on Telegram's own server, with a trailing dot", Settings{Token: "1:a", LocalMode: true, APIURL: "https://Api.Telegram.Org.:443"},
			[]string{"local_mode: is for a self-hosted Bot API server run with --local, not https://Api.Telegram.Org.:443 (set api_url to your server)"}},
		{"local mode by default", Settings{Token: "1:a", LocalMode: true},
			[]string{"local_mode: is for a self-hosted Bot API server run with --local, not https://api.telegram.org (set api_url to your server)"}},
		{"local mode", Settings{Token: "1:a", LocalMode: true, APIURL: "http://127.0.0.1:8081"}, nil},
		{"bad mode", Settings{Token: "1:a", Mode: "push"}, []string{`mode: "push" is not a mode (want polling or webhook)`}},
		{"webhook needs a secret", Settings{Token: "1:a", Mode: "webhook"}, []string{"webhook_secret: is required in webhook mode"}},
		{"webhook secret charset", Settings{Token: "1:a", Mode: "webhook", WebhookSecret: "a b"},
			[]string{"webhook_secret: must be 1-256 letters, digits, _ or -"}},
		{"webhook secret too short", Settings{Token: "1:a", Mode: "webhook", WebhookSecret: "0123456789abcde"},
			[]string{"webhook_secret: is too short: at least 16 characters (e.g. openssl rand -hex 16)"}},
		{"webhook secret too short in polling mode", Settings{Token: "1:a", WebhookSecret: "x"},
			[]string{"webhook_secret: is too short: at least 16 characters (e.g. openssl rand -hex 16)"}},
		{"webhook secret of 16", Settings{Token: "1:a", Mode: "webhook", WebhookSecret: "0123456789abcdef"}, nil},
		{"chats", Settings{Token: "1:a", Chats: map[string]string{"abc": "a@x", "12": "nobody", "-0": "b@x", "05": "c@x"}},
			[]string{
				`chats.-0: "-0" is not a Telegram chat id (want a number such as 123456789, or -100... for a group)`,
				`chats.05: "05" is not a Telegram chat id (want a number such as 123456789, or -100... for a group)`,
				`chats.12: "nobody" is not a bare JID (want user@domain)`,
				`chats.abc: "abc" is not a Telegram chat id (want a number such as 123456789, or -100... for a group)`,
			}},
		{"negative rate", Settings{Token: "1:a", RateLimits: RateLimits{ChatPerSecond: -1}}, []string{"rate_limits.chat_per_second: must be positive"}},
		{"room history out of range", Settings{Token: "1:a", RoomHistory: ptrInt(501)}, []string{"room_history: must be from 0 to 500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.s.Validate() {
				got = append(got, p.Key+": "+p.Msg)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
	s := Settings{Token: "777:tokensecret", Chats: map[string]string{"-1001": " Alice@Example.COM "}}
	if ps := s.Validate(); ps != nil {
		t.Fatal(ps)
	}
	want := Settings{Token: "777:tokensecret", APIURL: DefaultAPIURL, Mode: ModePolling, Chats: map[string]string{"-1001": "alice@example.com"},
		RateLimits: RateLimits{ChatPerSecond: 1, GroupPerMinute: 20, TotalPerSecond: 30}, RoomHistory: ptrInt(20)}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("normalised to %+v, want %+v", s, want)
	}
	if out := fmt.Sprintf("%v %+v %#v", s, s, s); strings.Contains(out, "tokensecret") {
		t.Errorf("settings print their token: %s", out)
	}
}

func TestParseChatID(t *testing.T) {
	tr := &Transport{}
	for in, want := range map[string]string{
		"123456789": "123456789", " -1001234567890 ": "-1001234567890",
		"0": "", "+5": "", "05": "", "1e3": "", "": "", "99999999999999999999": "", "12 34": "",
	} {
		got, err := tr.ParseAddr(in)
		if string(got) != want || (err == nil) != (want != "") {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSplit(t *testing.T) {
	long := strings.Repeat("word ", 1000) // 5000 chars
	emoji := strings.Repeat("😀", 3000)    // 6000 UTF-16 units
	tests := []struct {
		name  string
		text  string
		parts int
	}{
		{"short", "hello", 1},
		{"exactly the limit", strings.Repeat("a", maxText), 1},
		{"words", long, 2},
		{"no spaces", strings.Repeat("a", 9000), 3},
		{"surrogate pairs", emoji, 2},
	}
	for _, tt := range tests {
		parts := split(tt.text, maxText)
		if len(parts) != tt.parts {
			t.Errorf("%s: %d parts, want %d", tt.name, len(parts), tt.parts)
		}
		for _, p := range parts {
			if utf16Len(p) > maxText {
				t.Errorf("%s: part of %d units", tt.name, utf16Len(p))
			}
		}
		joined := strings.Join(parts, "")
		if tt.name == "words" {
			joined = strings.Join(parts, " ")
		}
		if joined != tt.text {
			t.Errorf("%s: parts do not add up to the text", tt.name)
		}
	}
}

// Telegram refuses a message of white space alone ("message text is
// empty", a 400): split never makes such a part, wherever the white space
// falls, and leaves out nothing but white space.
func TestSplitNoWhitespaceOnlyPart(t *testing.T) {
	x := strings.Repeat("x", maxText)
	for name, text := range map[string]string{
		"trailing blank line":       x + "\n\n",
		"trailing spaces":           x + strings.Repeat(" ", 5000),
		"leading spaces":            strings.Repeat(" ", 5000) + "hello",
		"a run of blank lines":      x + strings.Repeat("\n", maxText+10) + "tail",
		"a long run between two":    "head " + strings.Repeat(" \n\t", 3*maxText) + " tail",
		"a line break past the cut": x + "\n",
		"spaces that fill a part":   strings.Repeat("ab ", maxText) + strings.Repeat(" ", maxText),
	} {
		parts := split(text, maxText)
		if len(parts) == 0 {
			t.Errorf("%s: no parts", name)
		}
		for i, p := range parts {
			if strings.TrimSpace(p) == "" {
				t.Errorf("%s: part %d of %d is white space only (%d bytes)", name, i, len(parts), len(p))
			}
			if utf16Len(p) > maxText {
				t.Errorf("%s: part %d of %d units", name, i, utf16Len(p))
			}
		}
		if got, want := strings.Join(strings.Fields(strings.Join(parts, " ")), " "), strings.Join(strings.Fields(text), " "); got != want {
			t.Errorf("%s: the parts' words are not the text's", name)
		}
	}
}

func ptrInt(n int) *int { return &n }
