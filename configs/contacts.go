package configs

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
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
func (p *parser) validateContacts(c map[string]string) {
	domains := p.transportDomains()
	for _, k := range slices.Sorted(maps.Keys(c)) {
		key := "contacts." + k
		if !e164.MatchString(k) {
			j, err := jid.Parse(k)
			_, contact := domains[j.Domainpart()]
			if err != nil || !contact || j.Localpart() == "" || j.Resourcepart() != "" {
				p.add(p.lineNear(key), "contacts", fmt.Sprintf("%s is neither an international number (+15557654321) nor a transport's contact (ADDRESS@%s)",
					quoteWord(k), firstDomain(domains)))
				continue
			}
		}
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
}

// firstDomain is an example transport domain for a message.
func firstDomain(domains map[string]string) string {
	if len(domains) == 0 {
		return "sms.example.com"
	}
	return slices.Sorted(maps.Keys(domains))[0]
}
