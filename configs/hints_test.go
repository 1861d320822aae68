package configs

import (
	"reflect"
	"strings"
	"testing"
)

// YAML's messages for the usual mistakes get a hint where the file's text
// shows what was meant, at the lines YAML gives: an IPv6 [host]:port
// unquoted, a key without a space after its colon, a tab in the
// indentation, a number in quotes.
func TestYAMLHints(t *testing.T) {
	const quote = `quote "[fd12::1]:443": unquoted, YAML reads "[" as the start of a list`
	tests := []struct {
		name, old, new string
		want           string
	}{
		{"[v6]:port in a block list", "access:\n", "media:\n  fetch_allow:\n    - [fd12::1]:443\naccess:\n",
			`gw.yaml:8: did not find expected '-' indicator (` + quote + `)`},
		{"[v6]:port further down a block list", "access:\n", "media:\n  fetch_allow:\n    - upload.example.com:443\n    - [fd12::1]:443\naccess:\n",
			`gw.yaml:8: did not find expected '-' indicator (line 9: ` + quote + `)`},
		{"[v6]:port as a key's value", "access:\n", "media:\n  fetch_allow: [fd12::1]:443\naccess:\n",
			`gw.yaml:7: did not find expected key (` + quote + `)`},
		{"[v6]:port in a flow list", "access:\n", "media:\n  fetch_allow: [[fd12::1]:443]\naccess:\n",
			`gw.yaml:7: media.fetch_allow[0]: expected a string, got a mapping (` + quote + `)`},
		{"no space after a key's colon", "    domain: t1.example.com\n", "    domain:t1.example.com\n",
			`gw.yaml:11: could not find expected ':' (is a space missing after "domain:"?)`},
		{"no space after a key's colon, read on into the next line", "  listen: 127.0.0.1:0\n", "  listen:127.0.0.1:0\n",
			`gw.yaml:5: mapping values are not allowed in this context (line 4: is a space missing after "listen:"?)`},
		{"no space after a secret's colon", "      token: ${TOKEN}\n", "      token:Hunter2Hunter2\n",
			`gw.yaml:15: mapping values are not allowed in this context (line 14: is a space missing after "token:"?)`},
		{"a tab indenting a key", "  listen:", "\tlisten:",
			`gw.yaml:4: found character that cannot start any token (YAML indents with spaces, not tabs)`},
		{"a tab after spaces", "    domain:", "  \tdomain:",
			`gw.yaml:10: found a tab character that violates indentation (YAML indents with spaces, not tabs)`},
		{"an integer in quotes", "      token: ${TOKEN}\n", "      token: ${TOKEN}\n      count: \"12345\"\n",
			`gw.yaml:15: transports[0].settings.count: expected an integer, got "12345" (remove the quotes: quoted, YAML reads it as a string)`},
		{"an integer from the environment in quotes", "      token: ${TOKEN}\n", "      token: ${TOKEN}\n      count: \"${PORT}\"\n",
			`gw.yaml:15: transports[0].settings.count: expected an integer, got "${PORT}" (remove the quotes: quoted, YAML reads it as a string)`},
		{"a word in quotes stays a word", "      token: ${TOKEN}\n", "      token: ${TOKEN}\n      count: \"many\"\n",
			`gw.yaml:15: transports[0].settings.count: expected an integer, got "many"`},
	}
	for _, tt := range tests {
		_, err := Parse("gw.yaml", []byte(edit(tt.old, tt.new)), lookupTestEnv)
		got := problemsOf(t, err)
		if want := []string{tt.want}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), tt.want)
		}
		if strings.Contains(strings.Join(got, "\n"), "Hunter2") {
			t.Errorf("%s: a problem quotes the secret", tt.name)
		}
	}
}
