package configs

import (
	"reflect"
	"strings"
	"testing"
)

// A component secret needs 16 characters; the problem names the key and
// never quotes the secret.
func TestSecretLength(t *testing.T) {
	tests := []struct {
		secret string
		want   []string
	}{
		0: {"x", []string{`gw.yaml:12: transports[0].secret: is too short: at least 16 characters (e.g. openssl rand -hex 16)`}},
		1: {"0123456789abcde", []string{`gw.yaml:12: transports[0].secret: is too short: at least 16 characters (e.g. openssl rand -hex 16)`}},
		2: {"0123456789abcdef", nil},
		3: {`"ééééééééééééééé"`, []string{`gw.yaml:12: transports[0].secret: is too short: at least 16 characters (e.g. openssl rand -hex 16)`}}, // 15 characters, 30 bytes
	}
	for i, tt := range tests {
		_, err := Parse("gw.yaml", []byte(edit("secret: ${SECRET}", "secret: "+tt.secret)), lookupTestEnv)
		got := problemsOf(t, err)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%d: got %q, want %q", i, got, tt.want)
		}
		if tt.want != nil && len(tt.secret) > 1 && strings.Contains(strings.Join(got, "\n"), strings.Trim(tt.secret, `"`)) {
			t.Errorf("%d: the problem quotes the secret", i)
		}
	}
}

// An expanded value is hidden in a problem's message also when the message
// quotes it in another case (a JID normalised, lower-cased).
func TestExpandedValueHiddenInAnyCase(t *testing.T) {
	env := func(name string) (string, bool) {
		if name == "FOLDED" {
			return "Folded-Hunter2-Secret", true
		}
		return lookupTestEnv(name)
	}
	_, err := Parse("gw.yaml", []byte(edit("token: ${TOKEN}", "token: ${FOLDED}")), env)
	got := problemsOf(t, err)
	want := []string{`gw.yaml:14: transports[0].settings.token: "${FOLDED}" is not canonical`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
