package configs

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// entry is one key of a mapping, with its value.
type entry struct {
	key  string
	k, v *yaml.Node
}

const maxMergeDepth = 20

// entries lists the keys of mapping n in order, reporting keys that are not
// strings and keys given twice. Keys merged in with "<<: *anchor" come
// after the mapping's own keys, which override them.
func (p *parser) entries(n *yaml.Node, path string, depth int) []entry {
	p.steps += len(n.Content) / 2
	var out []entry
	seen := map[string]int{} // key -> line
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		rk := resolve(k)
		if rk == nil || rk.Kind != yaml.ScalarNode {
			p.add(k.Line, path, "keys must be strings")
			continue
		}
		if line, dup := seen[rk.Value]; dup {
			p.add(k.Line, path, fmt.Sprintf("key %s is repeated (first on line %d)", quoteWord(rk.Value), line))
			continue
		}
		seen[rk.Value] = k.Line
		out = append(out, entry{key: rk.Value, k: rk, v: v})
	}
	for _, m := range merges {
		for _, e := range p.merged(m, path, depth) {
			if _, dup := seen[e.key]; !dup {
				seen[e.key] = e.k.Line
				out = append(out, e)
			}
		}
	}
	return out
}

// merged lists the entries that "<<: m" brings in: m is a mapping or a list
// of mappings, earlier ones winning.
func (p *parser) merged(m *yaml.Node, path string, depth int) []entry {
	if depth >= maxMergeDepth || p.steps > maxSteps {
		p.add(m.Line, path, "merges (<<) nest too deep")
		return nil
	}
	rm := resolve(m)
	switch {
	case rm != nil && rm.Kind == yaml.MappingNode:
		return p.entries(rm, path, depth+1)
	case rm != nil && rm.Kind == yaml.SequenceNode:
		var out []entry
		seen := map[string]bool{}
		for _, item := range rm.Content {
			ri := resolve(item)
			if ri == nil || ri.Kind != yaml.MappingNode {
				p.add(item.Line, path, "<< must be given a mapping or a list of mappings")
				continue
			}
			for _, e := range p.entries(ri, path, depth+1) {
				if !seen[e.key] {
					seen[e.key] = true
					out = append(out, e)
				}
			}
		}
		return out
	}
	p.add(m.Line, path, "<< must be given a mapping or a list of mappings")
	return nil
}
