package configs

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics and always returns either a
// config or Problems.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add(Example)
	f.Add([]byte(""))
	f.Add([]byte("xmpp: {server: ${V}}\n"))
	f.Add([]byte("a: &a {b: *a, <<: *a}\nc: [*a, *a]\n"))
	f.Add([]byte("transports:\n  - &t {name: a, type: testtype, settings: {token: $${X}, numbers: {x: [1]}}}\n  - <<: [*t, *t]\n"))
	f.Add([]byte("\x01\xff---\n- ${\n"))
	env := func(name string) (string, bool) {
		switch name {
		case "A", "SECRET", "TOKEN":
			return "value", true
		case "NULL":
			return "null", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, env)
		switch {
		case err == nil && c == nil:
			t.Fatal("no config and no error")
		case err != nil && c != nil:
			t.Fatal("a config and an error")
		case err != nil:
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not Problems: %v", err)
			}
		}
	})
}
