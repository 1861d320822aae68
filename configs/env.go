package configs

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// expandAll expands ${VAR} in every scalar value of the tree (not in keys),
// remembering the config text of each changed scalar in p.orig. Each node is
// visited once, so values shared through aliases are expanded once.
func (p *parser) expandAll(root *yaml.Node) {
	seen := map[*yaml.Node]bool{}
	var path []string // segments: ".key" or "[i]"
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				path = append(path, "["+strconv.Itoa(i)+"]")
				walk(c)
				path = path[:len(path)-1]
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				path = append(path, "."+n.Content[i].Value)
				walk(n.Content[i+1])
				path = path[:len(path)-1]
			}
		case yaml.ScalarNode:
			p.expandScalar(n, strings.TrimPrefix(strings.Join(path, ""), "."))
		}
	}
	walk(root)
}

func (p *parser) expandScalar(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	if name, ok := strings.CutPrefix(n.Value, "$"); ok && isVarName(name) {
		// $NAME, as a shell writes it: surely meant as the variable. The
		// value is not quoted (it may be a secret) unless it names one.
		msg := "a value of $ and a name is not read from the environment: write ${NAME} to read the variable, or $$ for a literal $"
		if _, set := p.env(name); set {
			msg = fmt.Sprintf("$%s is not read from the environment: write ${%[1]s} to read the variable, or $$ for a literal $", name)
		}
		p.add(n.Line, path, msg)
		p.failed[n] = true
		return
	}
	value, unset, err := expand(n.Value, p.env)
	if err != nil {
		p.add(n.Line, path, err.Error())
		p.failed[n] = true
		value = ""
	}
	for _, name := range unset {
		p.add(n.Line, path, fmt.Sprintf("environment variable %s is not set", name))
		p.failed[n] = true
	}
	if value == n.Value {
		return
	}
	p.orig[n] = n.Value
	n.Value = value
	if n.Style == 0 { // plain, without an explicit tag
		// Resolve the tag again (a number, a boolean), but keep a value
		// such as "null" from the environment a string.
		n.Tag = ""
		if value != "" && n.ShortTag() == "!!null" {
			n.Tag = "!!str"
		}
	}
}

// expand replaces ${NAME} with the value of variable NAME and "$$" with "$";
// any other "$" is kept. It returns the names of unset variables (replaced
// by nothing), and an error for a malformed ${...}. Errors quote only the
// variable name.
func expand(s string, lookup func(string) (string, bool)) (string, []string, error) {
	var b strings.Builder
	var unset []string
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, errors.New(`"${" without a closing "}" (write "$$" for a literal "$")`)
			}
			name := s[i+2 : i+2+end]
			if !isVarName(name) {
				return "", nil, fmt.Errorf("invalid environment variable name %s in ${...}", quoteShort(name))
			}
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else if !slices.Contains(unset, name) {
				unset = append(unset, name)
			}
			i += end + 3
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), unset, nil
}

// isVarName reports whether s is a variable name: [A-Za-z_][A-Za-z0-9_]*.
func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
