package configs

import (
	"reflect"
	"strings"
	"testing"
)

// The address book's keys are numbers or transports' contacts, its names
// short single lines.
func TestContactsProblems(t *testing.T) {
	yaml := base + `contacts:
  "+15557654321": Dana Scully
  "12345@t1.example.com": Ops room
  "5551234": Nobody
  "bob@example.com": Bob
  "+15550002222": ""
  "+15550003333": "two\nlines"
`
	env := map[string]string{"SECRET": "component-secret-1", "TOKEN": "t"}
	_, err := Parse("gw.yaml", []byte(yaml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	got := problemsOf(t, err)
	want := []string{
		`gw.yaml:20: contacts: "5551234" is neither an international number (+15557654321) nor a transport's contact (ADDRESS@t1.example.com)`,
		`gw.yaml:21: contacts: "bob@example.com" is neither an international number (+15557654321) nor a transport's contact (ADDRESS@t1.example.com)`,
		`gw.yaml:22: contacts.+15550002222: the name is empty`,
		`gw.yaml:23: contacts.+15550003333: the name must be one line, without control characters`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Two keys naming one contact (here its domain in another case) are
// refused, the later naming the first and its line: the gateway would
// keep either name.
func TestContactsSameContactTwice(t *testing.T) {
	yaml := base + `contacts:
  "123@t1.example.com": Dana
  "+15557654321": Walter
  "123@T1.EXAMPLE.COM": Fox
`
	_, err := Parse("gw.yaml", []byte(yaml), lookupTestEnv)
	got := problemsOf(t, err)
	want := []string{`gw.yaml:20: contacts.123@T1.EXAMPLE.COM: the same contact as "123@t1.example.com" (line 18)`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
