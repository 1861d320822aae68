package configs

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	yamlError  = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	yamlAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserErrors are yaml.v3's parser (not scanner) errors. It reports their
// line counting from 0, and leaves the line out when it is 0.
var parserErrors = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// syntaxError reports a YAML syntax error at its line, correcting
// yaml.v3's line numbers.
func (p *parser) syntaxError(err error, data []byte) {
	m := yamlError.FindStringSubmatch(err.Error())
	if m == nil {
		p.add(0, "", err.Error())
		return
	}
	msg := m[2]
	line, _ := strconv.Atoi(m[1]) // 0 if absent
	switch {
	case isReaderError(msg):
		line = badCharLine(data)
	case yamlAnchor.MatchString(msg):
		name := yamlAnchor.FindStringSubmatch(msg)[1]
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
		}
	case line == 0:
		line = 1 // yaml.v3 leaves out line 0
	case parserErrors[msg]:
		line++
	}
	p.add(line, "", msg+syntaxHint(msg, line, data))
}

// isReaderError reports whether msg is one of yaml.v3's errors about the
// input's encoding, which carry no line at all.
func isReaderError(msg string) bool {
	return msg == "control characters are not allowed" ||
		strings.HasPrefix(msg, "invalid leading UTF-8") ||
		strings.HasPrefix(msg, "invalid trailing UTF-8") ||
		strings.HasPrefix(msg, "incomplete UTF-8") ||
		strings.HasPrefix(msg, "invalid Unicode")
}

// badCharLine returns the line of the first character YAML does not allow,
// or 0.
func badCharLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if !yamlChar(r, size) {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 0
}

// yamlChar reports whether YAML allows the decoded rune r (YAML 1.2, 5.1).
func yamlChar(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1:
		return false
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r < 0x20, r == 0x7f, 0x80 <= r && r < 0xa0:
		return false
	case 0xd800 <= r && r < 0xe000, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}
