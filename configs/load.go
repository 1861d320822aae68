package configs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Load reads the config file at path, expanding ${VAR} from the process
// environment. Problems with the file's content are returned as Problems.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse decodes and validates a config file's content. file names it in
// problems; lookupEnv resolves ${VAR} (nil means no variable is set). On
// failure the error is Problems, listing every problem found, sorted by line.
func Parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	p := &parser{
		file:   file,
		env:    lookupEnv,
		pos:    map[string]position{},
		orig:   map[*yaml.Node]string{},
		failed: map[*yaml.Node]bool{},
		bad:    map[string]bool{},
		active: map[*yaml.Node]bool{},
	}
	cfg := p.parse(data)
	if len(p.probs) > 0 {
		return nil, p.probs.sorted()
	}
	return cfg, nil
}

// parser holds the state of one Parse call.
type parser struct {
	file  string
	env   func(string) (string, bool)
	probs Problems

	pos    map[string]position   // where each decoded key path is
	orig   map[*yaml.Node]string // config text of scalars changed by ${VAR} expansion
	failed map[*yaml.Node]bool   // scalars whose expansion failed (already reported)
	bad    map[string]bool       // key paths whose value did not decode (already reported)

	// allow is access.allow, to check the users named in transports'
	// settings; nil if access.allow has problems of its own.
	allow *allowIndex

	active map[*yaml.Node]bool // anchors being decoded through an alias
	steps  int                 // decoding work done, to stop alias bombs
}

// position is where a key path is: the line of its key (or list item) and
// its value node, aliases resolved.
type position struct {
	line int
	node *yaml.Node
}

// configFile and transportFile are how Config and Transport appear in the
// file: a transport's settings are kept as a node until its type is known.
type configFile struct {
	Config     `yaml:",inline"`
	Transports []transportFile `yaml:"transports"`
}

type transportFile struct {
	Transport `yaml:",inline"`
	Settings  *yaml.Node `yaml:"settings"`
}

func (p *parser) parse(data []byte) *Config {
	root, ok := p.parseYAML(data)
	if !ok {
		return nil
	}
	var f configFile
	if root != nil {
		if root.Kind != yaml.MappingNode {
			p.add(root.Line, "", "the file must be a mapping of sections (xmpp, http, transports, ...)")
			return nil
		}
		p.expandAll(root)
		p.pos[""] = position{line: root.Line, node: root}
		p.decode(root, reflect.ValueOf(&f).Elem(), "")
	}
	cfg := &f.Config
	cfg.File = p.file
	p.validate(cfg, f.Transports)
	return cfg
}

// parseYAML parses data into a node tree. It returns a nil root for an
// empty file, and false after reporting a syntax error.
func (p *parser) parseYAML(data []byte) (root *yaml.Node, ok bool) {
	defer func() {
		// yaml.v3 is not supposed to panic on bad input; if it does, say so
		// without quoting anything from the file.
		if r := recover(); r != nil {
			p.add(0, "", "cannot parse the file as YAML")
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, true
		}
		p.syntaxError(err, data)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		p.syntaxError(err, data)
		return nil, false
	case len(next.Content) > 0 && !isNull(next.Content[0]):
		p.add(next.Content[0].Line, "", "only one YAML document is allowed")
		return nil, false
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, true
	}
	return doc.Content[0], true
}

// isNull reports whether n is a null scalar ("", "~", "null").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// resolve follows aliases; it returns nil for a dangling or looping alias.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 10 {
			return nil
		}
		n = n.Alias
	}
	return n
}
