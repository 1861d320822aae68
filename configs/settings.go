package configs

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// settings decodes the settings block n (nil if absent) at path into a new
// settings value of typ, strictly, then validates it. Validate's problems
// are placed at the line of the key they name, or of its nearest ancestor.
func (p *parser) settings(typ transports.Type, n *yaml.Node, path string) transports.Settings {
	var s transports.Settings
	if typ.NewSettings != nil {
		s = typ.NewSettings()
	}
	if v := reflect.ValueOf(s); s == nil || v.Kind() != reflect.Pointer || v.IsNil() {
		p.add(p.lineNear(path), path, "internal error: transport type "+quoteShort(typ.Name)+" has no settings value")
		return nil
	}
	if n != nil {
		p.decode(n, reflect.ValueOf(s), path)
	}
	for _, pr := range s.Validate() {
		key := path
		if pr.Key != "" {
			key += "." + pr.Key
		}
		if !p.reported(key) {
			p.addForeign(p.lineNear(key), key, pr.Msg)
		}
	}
	if u, ok := s.(transports.UserJIDs); ok {
		for k, j := range u.UserJIDs() {
			key := path + "." + k
			if msg := userJIDProblem(j); msg != "" {
				p.addForeign(p.lineNear(key), key, msg)
			} else if p.allow != nil && !p.allow.allowed(j) {
				// The admin command and `xmppgw links add` refuse such
				// a user; the gateway would refuse their stanzas.
				p.addForeign(p.lineNear(key), key, j+" is not allowed by access.allow")
			}
		}
	}
	return s
}

// userJIDProblem says what is wrong with s as a user's JID in the config,
// or "": it must be a bare JID, written as the gateway compares JIDs.
func userJIDProblem(s string) string {
	j, err := jid.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a valid JID: %v", s, err)
	case j.Localpart() == "" || j.Resourcepart() != "":
		return fmt.Sprintf("%q is not a bare JID (want user@domain)", s)
	case j.String() != s:
		return fmt.Sprintf("%q is written differently from how XMPP compares it: write %q", s, j.String())
	}
	return ""
}

// reported reports whether the value at key, or one holding it, was
// already reported as not decoding or as using an unset variable.
func (p *parser) reported(key string) bool {
	for ; key != ""; key = parentPath(key) {
		if pos, ok := p.pos[key]; p.bad[key] || ok && p.failed[pos.node] {
			return true
		}
	}
	return false
}
