package component

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
)

// command is an XEP-0050 <command/> element as the gateway sends it.
type command struct {
	XMLName   xml.Name    `xml:"http://jabber.org/protocol/commands command"`
	Node      string      `xml:"node,attr"`
	SessionID string      `xml:"sessionid,attr,omitempty"`
	Status    string      `xml:"status,attr"`
	Actions   *cmdActions `xml:"actions,omitempty"`
	Notes     []cmdNote   `xml:"note"`
	Form      *dataForm   `xml:"jabber:x:data x,omitempty"`
}

type cmdActions struct {
	Execute  string    `xml:"execute,attr"`
	Complete *struct{} `xml:"complete"`
}

type cmdNote struct {
	Type string `xml:"type,attr"` // info, warn or error
	Text string `xml:",chardata"`
}

// adhocCommand is one command offered on the gateway JID. A command with a
// form first answers with the form, then runs on its submission.
type adhocCommand struct {
	node, name string
	admin      bool // only for admins
	linked     bool // only for transports whose chats are linked one by one
	// form returns the form to fill in, or a note when there is nothing to
	// ask (nothing to unlink). Nil for commands that run at once.
	form func(g *Gateway, ctx context.Context, user string) (*dataForm, *cmdNote, error)
	// run executes the command with the submitted form (nil if none) and
	// returns the note to show. A returned error is a store failure.
	run func(g *Gateway, ctx context.Context, from jid.JID, f *dataForm) (cmdNote, error)
}

// commands returns the commands that user may run here, in display order.
func (g *Gateway) commands(user string) []adhocCommand {
	admin := g.admin(user)
	if !admin && !g.allowed(user) {
		return nil
	}
	var cs []adhocCommand
	for _, c := range adhocCommands {
		if (c.admin && !admin) || (c.linked && g.linker == nil) {
			continue
		}
		cs = append(cs, c)
	}
	return cs
}

// admin reports whether the bare JID may run the admin commands.
func (g *Gateway) admin(bare string) bool {
	return g.o.Admin != nil && g.o.Admin(bare)
}

// commandItems lists the commands for XEP-0030 disco#items on the
// commands node.
func (g *Gateway) commandItems(user string) discoItems {
	q := discoItems{Node: nsCommands}
	for _, c := range g.commands(user) {
		q.Items = append(q.Items, discoItem{JID: g.domain.String(), Node: c.node, Name: c.name})
	}
	return q
}

// handleCommand executes an XEP-0050 command on the gateway JID.
func (g *Gateway) handleCommand(t router.Writer, in inStanza, from, to jid.JID) {
	user := from.Bare().String()
	if in.Type != "set" {
		g.reply(t, in, from, to, newError("modify", "bad-request", "commands are executed with an iq of type set"))
		return
	}
	var cmd *adhocCommand
	for _, c := range adhocCommands {
		if c.node == in.Payload.Node {
			cmd = &c
			break
		}
	}
	switch {
	case cmd == nil || (cmd.linked && g.linker == nil):
		g.reply(t, in, from, to, newError("cancel", "item-not-found", "no such command: "+in.Payload.Node))
		return
	case (cmd.admin && !g.admin(user)) || (!g.allowed(user) && !g.admin(user)):
		g.reply(t, in, from, to, newError("auth", "forbidden", user+" may not run "+in.Payload.Node))
		return
	}
	result := func(c command) {
		c.Node = cmd.node
		t.Encode(iq{Type: "result", ID: in.ID, From: to.String(), To: from.String(), Payload: c})
	}
	switch in.Payload.Action {
	case "", "execute", "complete":
	case "cancel":
		result(command{SessionID: in.Payload.SessionID, Status: "canceled"})
		return
	default:
		g.reply(t, in, from, to, newError("modify", "bad-request", "this command has one stage: execute, complete or cancel"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if cmd.form != nil && in.Payload.Form == nil {
		form, note, err := cmd.form(g, ctx, user)
		if err != nil {
			g.reply(t, in, from, to, storeError(err))
			return
		}
		if form == nil {
			result(command{Status: "completed", Notes: []cmdNote{*note}})
			return
		}
		result(command{SessionID: newSessionID(), Status: "executing",
			Actions: &cmdActions{Execute: "complete", Complete: &struct{}{}}, Form: form})
		return
	}
	if f := in.Payload.Form; f != nil && f.Type == "cancel" {
		result(command{SessionID: in.Payload.SessionID, Status: "canceled"})
		return
	}
	note, err := cmd.run(g, ctx, from, in.Payload.Form)
	if err != nil {
		g.reply(t, in, from, to, storeError(err))
		return
	}
	result(command{SessionID: in.Payload.SessionID, Status: "completed", Notes: []cmdNote{note}})
}

// newSessionID returns a random XEP-0050 session id. Commands keep no
// state between stages: the submitted form carries everything.
func newSessionID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func info(text string) cmdNote   { return cmdNote{Type: "info", Text: text} }
func failed(text string) cmdNote { return cmdNote{Type: "error", Text: text} }
