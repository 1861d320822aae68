package component

import (
	"regexp"
	"strings"
	"testing"
)

// The commands that commit (a link code asked by XEP-0077 or by the chat
// command "link") run off the read loop: the read loop writes nothing and
// goes on, and their answers reach the session afterwards, in order.
func TestLaterCommandsOffReadLoop(t *testing.T) {
	g, _, _ := linkedGateway(t)
	read := sessionOutput(t, g)
	startIntake(t, g)
	handled := make(chan int, 2)
	readLoop(t, g, []string{
		`<iq type="get" id="r1" from="alice@example.test/pc" to="tg.example.test"><query xmlns="jabber:iq:register"/></iq>`,
		`<message type="chat" id="m1" from="alice@example.test/pc" to="tg.example.test"><body>link</body></message>`,
	}, handled)
	eventually(t, "both stanzas handled", func() bool { return len(handled) == 2 })
	var got string
	eventually(t, "both answers written", func() bool { got = read(1); return strings.Count(got, "/link ") == 2 })
	got = regexp.MustCompile(`/link [A-Za-z0-9-]+`).ReplaceAllString(got, "/link CODE")
	got = regexp.MustCompile(` id="[0-9a-f]{16}"`).ReplaceAllString(got, ` id="ID"`)
	const help = `Send /link CODE to the bot. The code works once, within 15 minutes.`
	want := `<iq type="result" id="r1" from="tg.example.test" to="alice@example.test/pc"><query xmlns="jabber:iq:register">` +
		`<instructions>` + help + `</instructions><registered></registered></query></iq>` +
		`<message type="chat" from="tg.example.test" to="alice@example.test/pc" id="ID"><body>` + help + `</body></message>`
	if got != want {
		t.Errorf("written:\n%s\nwant\n%s", got, want)
	}
}
