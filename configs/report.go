package configs

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// add records a problem whose message was written by this package and so
// holds no expanded values.
func (p *parser) add(line int, key, msg string) {
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Key: key, Msg: msg})
}

// addForeign records a problem whose message comes from elsewhere (a
// transport type, a yaml.Unmarshaler), hiding any expanded value it quotes.
func (p *parser) addForeign(line int, key, msg string) {
	p.add(line, p.redact(key, nil), p.redact(msg, p.pos[key].node))
}

// redact replaces every value that came from the environment, as it is
// or trimmed, in any case (a check may quote it so), with the config text
// it replaced: own's text, for own's value, if another's is the same
// (own is the node the problem is about, or nil). Very short values are
// left alone: they are not secrets, and replacing them would garble
// ordinary words. A check must not quote a value otherwise changed (a
// number normalised): redact cannot know it.
func (p *parser) redact(s string, own *yaml.Node) string {
	type sub struct {
		value, text string
		own         bool
	}
	var subs []sub
	for n, text := range p.orig {
		for _, v := range []string{n.Value, strings.TrimSpace(n.Value)} {
			if len(v) >= 4 && indexFold(s, v) >= 0 {
				subs = append(subs, sub{v, text, n == own})
			}
		}
	}
	sort.Slice(subs, func(i, j int) bool {
		if len(subs[i].value) != len(subs[j].value) {
			return len(subs[i].value) > len(subs[j].value)
		}
		return subs[i].own && !subs[j].own
	})
	for _, r := range subs {
		var b strings.Builder
		for {
			i := indexFold(s, r.value)
			if i < 0 {
				break
			}
			b.WriteString(s[:i])
			b.WriteString(r.text)
			s = s[i+len(r.value):]
		}
		b.WriteString(s)
		s = b.String()
	}
	return s
}

// indexFold is the byte index of the first match of sub in s under Unicode
// case folding, of sub's length, or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// invalid reports a bad value at path, unless that value was already
// reported (an unset variable, a type mismatch).
func (p *parser) invalid(path, msg string) {
	if p.reported(path) {
		return
	}
	if pos, ok := p.pos[path]; ok && (pos.node == nil || pos.node.Kind != yaml.ScalarNode) {
		return // not a scalar: a type mismatch
	}
	p.add(p.lineNear(path), path, msg)
}

// require reports a missing or empty required value and returns whether
// the value is there.
func (p *parser) require(path, value string) bool {
	if value != "" {
		return true
	}
	if _, ok := p.pos[path]; ok {
		p.invalid(path, "must not be empty")
	} else if !p.reported(parentPath(path)) {
		p.add(p.lineNear(path), path, "is required")
	}
	return false
}

// hasProblem reports whether a problem was reported at path or under it.
func (p *parser) hasProblem(path string) bool {
	for _, pr := range p.probs {
		if pr.Key == path || strings.HasPrefix(pr.Key, path+".") || strings.HasPrefix(pr.Key, path+"[") {
			return true
		}
	}
	return false
}

// present reports whether the file gives path a value: a key that is
// absent, or null ("key:" alone), takes its default.
func (p *parser) present(path string) bool {
	pos, ok := p.pos[path]
	return ok && pos.node != nil && !isNull(pos.node)
}

// nearest returns path or its nearest ancestor that is in the file.
func (p *parser) nearest(path string) string {
	for path != "" {
		if _, ok := p.pos[path]; ok {
			return path
		}
		path = parentPath(path)
	}
	return ""
}

// lineNear returns the line of path or of its nearest ancestor in the file.
func (p *parser) lineNear(path string) int {
	return p.pos[p.nearest(path)].line
}

// parentPath cuts the last ".key" or "[i]" off path.
func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// text returns the config text of the value at path, before expansion.
func (p *parser) text(path string) string {
	n := p.pos[path].node
	if n == nil {
		return ""
	}
	if t, ok := p.orig[n]; ok {
		return t
	}
	return n.Value
}

// describe names what node n is, for "expected X, got Y" messages, quoting
// config text only.
func (p *parser) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		if t := p.flowBracketPort(n); t != "" {
			return "a mapping (" + bracketHint(t) + ")"
		}
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		t, ok := p.orig[n]
		if !ok {
			t = n.Value
		}
		return quoteWord(t)
	}
	return "an alias"
}

// quoteWord quotes t, config text read as one word: a scalar, or a key. A
// word such as "auth_token:abc" (a key with no space after its colon,
// which YAML reads as one word) or a URL is quoted only to its colon: what
// follows may be a secret.
func quoteWord(t string) string {
	if i := strings.IndexByte(t, ':'); i > 0 && !strings.ContainsAny(t[:i], " \t") {
		return quoteShort(t[:i+1]+"…") + " (is a space missing after the colon?)"
	}
	return quoteShort(t)
}

// quoteShort quotes s, cut to a readable length.
func quoteShort(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-3]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
