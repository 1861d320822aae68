package configs

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML's own messages say what it could not read, not what was meant. The
// hints below add what the file's text shows was meant, for the usual
// mistakes; they quote config text only up to a colon, or a "[host]:port".

var (
	// bracketPort is a value "[host]:port" unquoted, alone on its line (a
	// list item or a key's value), which YAML reads as a flow list.
	bracketPort = regexp.MustCompile(`^\s*(?:-\s+|[^\s#'"\-\[{][^#'":]*:\s+)(\[[^\]\s'"]*\]:[0-9]+)\s*(?:#.*)?$`)
	// keyNoSpace is a key with no space after its colon: "domain:x", the
	// line's or a list item's ("- " before it).
	keyNoSpace = regexp.MustCompile(`^\s*(-\s+)?([A-Za-z_][A-Za-z0-9_]*):[^\s:/]`)
	// itemPort is a list item "name:port", a valid host and port (a
	// fetch_allow entry: "- minio:9000").
	itemPort = regexp.MustCompile(`^\s*-\s+[A-Za-z_][A-Za-z0-9_]*:[0-9]+\s*(?:#.*)?$`)
)

// syntaxHint returns a hint for yaml.v3's syntax error msg reported at
// line of data, starting with a space, or "".
func syntaxHint(msg string, line int, data []byte) string {
	lines := bytes.Split(data, []byte("\n"))
	at := func(n int) string { // line n (from 1), or ""
		if n < 1 || n > len(lines) {
			return ""
		}
		return string(lines[n-1])
	}
	where := func(n int) string {
		if n == line {
			return ""
		}
		return fmt.Sprintf("line %d: ", n)
	}
	switch {
	case msg == "found a tab character that violates indentation",
		msg == "found character that cannot start any token" && strings.Contains(indentOf(at(line)), "\t"):
		return " (YAML indents with spaces, not tabs)"
	case msg == "could not find expected ':'", msg == "mapping values are not allowed in this context":
		// The key is on the line, or on the line before, a mapping's
		// line (a list item "- a:b" is a valid string) that the scanner
		// read on into this one: not less indented, else its block ended.
		if m := keyNoSpace.FindStringSubmatch(at(line)); m != nil && !itemPort.MatchString(at(line)) {
			return fmt.Sprintf(" (is a space missing after %q?)", m[2]+":")
		}
		prev := at(line - 1)
		if m := keyNoSpace.FindStringSubmatch(prev); m != nil && m[1] == "" &&
			strings.TrimSpace(at(line)) != "" && len(indentOf(at(line))) >= len(indentOf(prev)) {
			return fmt.Sprintf(" (%sis a space missing after %q?)", where(line-1), m[2]+":")
		}
	case parserErrors[msg]:
		// Reported at the start of the collection holding it.
		indent := len(indentOf(at(line)))
		for n := line; n <= len(lines); n++ {
			l := at(n)
			if n > line && strings.TrimSpace(l) != "" && len(indentOf(l)) < indent {
				break
			}
			if m := bracketPort.FindStringSubmatch(l); m != nil {
				return " (" + where(n) + bracketHint(m[1]) + ")"
			}
		}
	}
	return ""
}

// indentOf is the white space l starts with.
func indentOf(l string) string {
	return l[:len(l)-len(strings.TrimLeft(l, " \t"))]
}

// bracketHint says to quote text, a "[host]:port" written without quotes.
func bracketHint(text string) string {
	return fmt.Sprintf(`quote %q: unquoted, YAML reads "[" as the start of a list`, text)
}

// flowBracketPort returns the "[host]:port" that mapping n was written as
// in a flow list ([[fd12::1]:443] is a list holding the mapping
// {[fd12::1]: 443}), or "".
func (p *parser) flowBracketPort(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return ""
	}
	k, v := n.Content[0], n.Content[1]
	if k.Kind != yaml.SequenceNode || len(k.Content) != 1 || k.Content[0].Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
		return ""
	}
	port, ok := p.orig[v]
	if !ok {
		port = v.Value
	}
	return "[" + k.Content[0].Value + "]:" + port
}

// quotedHint returns a hint for scalar n, which does not decode as want,
// starting with a space, or "": a number or boolean written in quotes is a
// string to YAML.
func quotedHint(n *yaml.Node, want string) string {
	if n.Kind != yaml.ScalarNode || (n.Style != yaml.DoubleQuotedStyle && n.Style != yaml.SingleQuotedStyle) {
		return ""
	}
	plain := yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}
	var tags []string
	switch want {
	case "an integer":
		tags = []string{"!!int"}
	case "a number":
		tags = []string{"!!int", "!!float"}
	case "true or false":
		tags = []string{"!!bool"}
	}
	for _, t := range tags {
		if plain.ShortTag() == t {
			return " (remove the quotes: quoted, YAML reads it as a string)"
		}
	}
	return ""
}
