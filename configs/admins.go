package configs

import (
	"fmt"
	"strconv"

	"mellium.im/xmpp/jid"
)

// validateAdmins checks that each admin is a bare JID that allowed (the
// config's access.allow, already validated) accepts, and normalises it: an
// admin not allowed would run the admin commands while everything else,
// their own links included, refuses them.
func (p *parser) validateAdmins(admins []string, allowed func(bare string) bool) {
	for i, s := range admins {
		key := "admins[" + strconv.Itoa(i) + "]"
		j, err := jid.Parse(s)
		switch {
		case err != nil || j.Localpart() == "":
			p.invalid(key, fmt.Sprintf("%s is not a bare JID (user@domain)", quoteShort(p.text(key))))
		case j.Resourcepart() != "":
			p.invalid(key, "must be a bare JID, without a /resource")
		case !allowed(j.String()):
			p.invalid(key, fmt.Sprintf("%s is not covered by access.allow; add it (or its domain) there, or remove it here", quoteShort(p.text(key))))
		default:
			admins[i] = j.String()
		}
	}
}

// Admin reports whether bare is listed in admins.
func (c *Config) Admin(bare string) bool {
	j, err := jid.Parse(bare)
	if err != nil {
		return false
	}
	b := j.Bare().String()
	for _, a := range c.Admins {
		if a == b {
			return true
		}
	}
	return false
}
