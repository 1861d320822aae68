package configs

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"mellium.im/xmpp/jid"
)

// e164 is an international number as the address book keys it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// MaxContactName is the longest name in the address book, in characters.
const MaxContactName = 100

// validateContacts checks the address book: each key a number in
// international form or a transport's contact, each name one short line.
// That a contact's address parses is checked at startup, by its transport.
// Two keys naming one contact (JIDs compared canonical) are refused: the
// gateway would keep either name. It returns the line of each key
// (Config.ContactLines), nil if there is none.
func (p *parser) validateContacts(c map[string]string) map[string]int {
	if len(c) == 0 {
		return nil
	}
	domains := p.transportDomains()
	lines := map[string]int{}
	for k := range c {
		lines[k] = p.lineNear("contacts." + k)
	}
	first := map[string]string{} // contact -> the first key naming it
	for _, k := range ContactKeys(c, lines) {
		key := "contacts." + k
		contact := k
		if !e164.MatchString(k) {
			j, err := jid.Parse(k)
			_, known := domains[j.Domainpart()]
			if err != nil || !known || j.Localpart() == "" || j.Resourcepart() != "" {
				p.add(lines[k], "contacts", fmt.Sprintf("%s is neither an international number (+15557654321) nor a transport's contact (ADDRESS@%s)",
					quoteWord(k), firstDomain(domains)))
				continue
			}
			contact = j.String()
		}
		if prev, dup := first[contact]; dup {
			p.invalid(key, SameContact(prev, lines[prev]))
			continue
		}
		first[contact] = k
		name := c[k]
		switch {
		case name == "":
			p.invalid(key, "the name is empty")
		case utf8.RuneCountInString(name) > MaxContactName:
			p.invalid(key, fmt.Sprintf("the name is longer than %d characters", MaxContactName))
		case slices.ContainsFunc([]rune(name), unicode.IsControl):
			p.invalid(key, "the name must be one line, without control characters")
		}
	}
	return lines
}

// ContactKeys returns the keys of contacts in the order of their lines,
// as lines (Config.ContactLines) gives them.
func ContactKeys(contacts map[string]string, lines map[string]int) []string {
	return slices.SortedFunc(maps.Keys(contacts), func(a, b string) int {
		return cmp.Or(cmp.Compare(lines[a], lines[b]), strings.Compare(a, b))
	})
}

// SameContact says that a key names the same contact as the key first, on
// line.
func SameContact(first string, line int) string {
	return fmt.Sprintf("the same contact as %s (line %d)", quoteWord(first), line)
}

// firstDomain is an example transport domain for a message.
func firstDomain(domains map[string]string) string {
	if len(domains) == 0 {
		return "sms.example.com"
	}
	return slices.Sorted(maps.Keys(domains))[0]
}
