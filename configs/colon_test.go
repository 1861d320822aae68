package configs

import (
	"reflect"
	"strings"
	"testing"
)

// "key:value" without a space after the colon is one word to YAML: as a
// key (in a flow mapping) it is unknown or repeated, and the problem
// quotes it only to the colon, with a hint, since what follows may be a
// secret.
func TestKeyWithoutSpaceAfterColon(t *testing.T) {
	const secret = "Hunter2Hunter2Hunter2"
	tests := []struct {
		edit [2]string
		want []string
	}{
		0: {[2]string{"  - name: t1\n", "  - {secret:" + secret + ", name: t0}\n  - name: t1\n"}, []string{
			`gw.yaml:9: transports[0]: unknown key "secret:…" (is a space missing after the colon?)`,
			`gw.yaml:9: transports[0].domain: is required`,
			`gw.yaml:9: transports[0].secret: is required`,
			`gw.yaml:9: transports[0].type: is required`,
		}},
		1: {[2]string{"  - name: t1\n", "  - {name: t0, secret:" + secret + ", secret:" + secret + "}\n  - name: t1\n"}, []string{
			`gw.yaml:9: transports[0]: key "secret:…" (is a space missing after the colon?) is repeated (first on line 9)`,
			`gw.yaml:9: transports[0]: unknown key "secret:…" (is a space missing after the colon?)`,
			`gw.yaml:9: transports[0].domain: is required`,
			`gw.yaml:9: transports[0].secret: is required`,
			`gw.yaml:9: transports[0].type: is required`,
		}},
		2: {[2]string{"access:\n", "contacts: {+15557654321:" + secret + "}\naccess:\n"}, []string{
			`gw.yaml:6: contacts: "+15557654321:…" (is a space missing after the colon?) is neither an international number (+15557654321) nor a transport's contact (ADDRESS@t1.example.com)`,
		}},
	}
	for i, tt := range tests {
		_, err := Parse("gw.yaml", []byte(edit(tt.edit[0], tt.edit[1])), lookupTestEnv)
		got := problemsOf(t, err)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%d: got\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
		if strings.Contains(strings.Join(got, "\n"), secret) {
			t.Errorf("%d: a problem quotes the secret", i)
		}
	}
}
