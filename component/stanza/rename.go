package stanza

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"

	"mellium.im/xmpp/jid"
)

// RenameDomain returns b, one serialised stanza, with the JIDs in the
// domain old moved to the domain repl, their localpart and resourcepart
// kept: the stanza's own from, and, if nested, every attribute of every
// element whose value is a JID in old (the to of a forwarded message, an
// XEP-0033 address, a room's JID...). Everything else is kept byte for
// byte; text is never changed. n counts the attributes changed.
func RenameDomain(b []byte, old, repl string, nested bool) (out []byte, n int, err error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var buf bytes.Buffer
	copied := int64(0) // b up to here is in buf, or replaced there
	for depth := 0; ; {
		begin := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF && depth == 0 {
			break
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, 0, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			depth--
		case xml.StartElement:
			depth++
			changed := 0
			for i, a := range t.Attr {
				if !nested && (depth > 1 || a.Name != xml.Name{Local: "from"}) {
					continue
				}
				if v, ok := moveJID(a.Value, old, repl); ok {
					t.Attr[i].Value = v
					changed++
				}
			}
			if changed == 0 {
				continue
			}
			end := d.InputOffset()
			buf.Write(b[copied:begin])
			writeStart(&buf, t, bytes.HasSuffix(b[begin:end], []byte("/>")))
			copied, n = end, n+changed
		}
	}
	if n == 0 {
		return b, 0, nil
	}
	buf.Write(b[copied:])
	return buf.Bytes(), n, nil
}

// moveJID returns v, if it is a JID in the domain old, in the domain repl.
func moveJID(v, old, repl string) (string, bool) {
	j, err := jid.Parse(v)
	if err != nil || j.Domainpart() != old {
		return "", false
	}
	// The domainpart as written: after the first "@" before the first "/".
	rest, res, hasRes := strings.Cut(v, "/")
	local, _, hasLocal := strings.Cut(rest, "@")
	out := repl
	if hasLocal {
		out = local + "@" + out
	}
	if hasRes {
		out += "/" + res
	}
	return out, true
}

// writeStart writes the start tag of t as RawToken read it (prefixes as
// written), self-closing if empty.
func writeStart(buf *bytes.Buffer, t xml.StartElement, empty bool) {
	buf.WriteByte('<')
	writeName(buf, t.Name)
	for _, a := range t.Attr {
		buf.WriteByte(' ')
		writeName(buf, a.Name)
		buf.WriteString(`="`)
		xml.EscapeText(buf, []byte(a.Value))
		buf.WriteByte('"')
	}
	if empty {
		buf.WriteByte('/')
	}
	buf.WriteByte('>')
}

func writeName(buf *bytes.Buffer, n xml.Name) {
	if n.Space != "" {
		buf.WriteString(n.Space + ":")
	}
	buf.WriteString(n.Local)
}
