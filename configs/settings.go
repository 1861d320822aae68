package configs

import (
	"reflect"

	"gopkg.in/yaml.v3"

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
	return s
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
