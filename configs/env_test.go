package configs

import (
	"fmt"
	"reflect"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "1", "B_2": "two", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want string
		unset    []string
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "1"},
		{in: "x${A}y${B_2}z", want: "x1ytwoz"},
		{in: "${EMPTY}", want: ""},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$1"},
		{in: "a$b $ end$", want: "a$b $ end$"},
		{in: "${A}${NOPE}${X}${NOPE}", want: "1", unset: []string{"NOPE", "X"}},
		{in: "${A", err: `"${" without a closing "}" (write "$$" for a literal "$")`},
		{in: "${}", err: `invalid environment variable name "" in ${...}`},
		{in: "${A-B}", err: `invalid environment variable name "A-B" in ${...}`},
		{in: "${9}", err: `invalid environment variable name "9" in ${...}`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.in), func(t *testing.T) {
			got, unset, err := expand(tt.in, lookup)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("got error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || !reflect.DeepEqual(unset, tt.unset) {
				t.Errorf("got %q, unset %q, error %v; want %q, unset %q", got, unset, err, tt.want, tt.unset)
			}
		})
	}
}

// A whole value of $NAME, as a shell writes a variable, is refused, not
// taken as the literal: the message names the variable only if it is set
// (else the value may be a literal secret). $$ still makes a literal $,
// and a $ elsewhere stays as it is.
func TestBareDollarName(t *testing.T) {
	tests := []struct {
		old, new string
		want     []string
	}{
		{"secret: ${SECRET}", "secret: $SECRET", []string{
			`gw.yaml:12: transports[0].secret: $SECRET is not read from the environment: write ${SECRET} to read the variable, or $$ for a literal $`}},
		{"token: ${TOKEN}", `token: "$Hunter2_unset"`, []string{
			`gw.yaml:14: transports[0].settings.token: a value of $ and a name is not read from the environment: write ${NAME} to read the variable, or $$ for a literal $`}},
		{"token: ${TOKEN}", "token: $$TOKEN", nil},
		{"token: ${TOKEN}", "token: pa$TOKEN", nil},
		{"token: ${TOKEN}", "token: $1abc", nil},
	}
	for _, tt := range tests {
		_, err := Parse("gw.yaml", []byte(edit(tt.old, tt.new)), lookupTestEnv)
		if got := problemsOf(t, err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.new, got, tt.want)
		}
	}
}
