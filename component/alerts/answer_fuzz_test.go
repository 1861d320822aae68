package alerts

import (
	"regexp"
	"testing"
)

// Any text, from anyone: parseAnswer says it is no answer (and nothing
// else), or an answer whose verb, code and duration are all valid.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"ack", "ACK K4", "unack #k4", "silence K4 2h", "silence K4 1d12h", "silence K4", "status",
		"ack is fine", "silence K4 -2h", "silence K4 99999999999999999d", "on my way", "\x00ack\n"} {
		f.Add(s)
	}
	code := regexp.MustCompile(`^[A-Z0-9]{2,6}$`)
	f.Fuzz(func(t *testing.T, text string) {
		a, ok, err := parseAnswer(text)
		if !ok {
			if a != (answer{}) || err != nil {
				t.Fatalf("%q: not an answer, but %+v %v", text, a, err)
			}
			return
		}
		if err != nil {
			if a != (answer{}) {
				t.Fatalf("%q: an error and %+v", text, a)
			}
			return
		}
		switch a.verb {
		case "status":
			if a.code != "" || a.dur != 0 {
				t.Fatalf("%q: %+v", text, a)
			}
		case "ack":
			if a.code != "" && !code.MatchString(a.code) || a.dur != 0 {
				t.Fatalf("%q: %+v", text, a)
			}
		case "unack":
			if !code.MatchString(a.code) || a.dur != 0 {
				t.Fatalf("%q: %+v", text, a)
			}
		case "silence":
			if !code.MatchString(a.code) || a.dur <= 0 || a.dur > MaxSilence {
				t.Fatalf("%q: %+v", text, a)
			}
		default:
			t.Fatalf("%q: verb %q", text, a.verb)
		}
	})
}
