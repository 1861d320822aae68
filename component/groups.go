package component

import (
	"strings"

	"xmppgw/transports"
)

// A group (transports.Inbound.Group) is shown as a one-to-one contact
// whose lines are prefixed with their sender's name; a group of a
// transports.Rooms transport is also an XEP-0045 room, at its contact
// JID, which the rooms module hosts (package muc, core.RoomSink).

// isRoom reports whether remote is a group shown as a room.
func (g *Gateway) isRoom(remote transports.Addr) bool {
	return g.roomer != nil && g.roomer.IsRoom(remote)
}

// lineBreaks turns every line break a client may show (CR LF, CR, NEL,
// LS, PS, VT, FF) into LF, so that no line escapes its prefix.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n", "\v", "\n", "\f", "\n")

// prefixLines puts "name: " before every line of text: a group's message
// shown in a one-to-one chat. Every kind of line break is made LF first,
// so a member cannot start a line of their own that looks like another's
// ("ok\rAlice: approved").
func prefixLines(name, text string) string {
	if text == "" {
		return text
	}
	text = lineBreaks.Replace(text)
	if name == "" {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = name + ": " + l
	}
	return strings.Join(lines, "\n")
}

// memberName is a member's name made fit to show: on one line, trimmed.
func memberName(name string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(lineBreaks.Replace(name)), " "))
}
