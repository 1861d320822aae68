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

// A line YAML reads as valid is not blamed for an error on the next: a
// list item "name:port" (a fetch_allow entry, a single-label host as
// docker and k8s services have), or a "key:value"-like string that is a
// key's whole value, before a line less indented. A mapping's line with
// no space after the colon, port or not, still is.
func TestYAMLHintSparesValidLines(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string
	}{
		{"a host:port item before a key missing its colon", "access:\n", "media:\n  fetch_allow:\n    - minio:9000\n  url_ttl 1h\naccess:\n",
			`gw.yaml:9: could not find expected ':'`},
		{"a host:port item before a top-level key missing its colon", "access:\n", "media:\n  fetch_allow:\n    - minio:9000\ncontacts\n  \"+15557654321\": Dana\naccess:\n",
			`gw.yaml:9: could not find expected ':'`},
		{"a host:port value before a less indented key missing its colon", "  listen: 127.0.0.1:0\n  public_url: https://gw.example.com/\n",
			"  listen:\n    localhost:8080\n  public_url https://gw.example.com/\n",
			`gw.yaml:6: could not find expected ':'`},
		{"a mapping's key:port, read on into the next line", "  listen: 127.0.0.1:0\n", "  listen:8080\n",
			`gw.yaml:5: mapping values are not allowed in this context (line 4: is a space missing after "listen:"?)`},
	}
	for _, tt := range tests {
		_, err := Parse("gw.yaml", []byte(edit(tt.old, tt.new)), lookupTestEnv)
		if got, want := problemsOf(t, err), []string{tt.want}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), tt.want)
		}
	}
}

// A list item "name:port" is never hinted at, even on the line YAML
// names; one "key:text" is (a mapping meant: "- name:t1").
func TestYAMLHintListItemPort(t *testing.T) {
	const msg = "could not find expected ':'"
	if got := syntaxHint(msg, 2, []byte("fetch_allow:\n  - minio:9000\n")); got != "" {
		t.Errorf("hint for - minio:9000: %q, want none", got)
	}
	if got, want := syntaxHint(msg, 2, []byte("transports:\n  - name:t1\n")), ` (is a space missing after "name:"?)`; got != want {
		t.Errorf("hint for - name:t1: %q, want %q", got, want)
	}
}
