package adhoc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"slices"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/core"
	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/transports"
)

func init() {
	core.Register(core.Module{Name: "adhoc", New: newCommands})
}

// Commands is the module built for one gateway.
type Commands struct {
	c core.Core
	// linked: the transport links chats one by one (transports.Linker),
	// so the linking commands exist.
	linked bool
	// login: the transport's users sign in (transports.Login), so the
	// login commands exist.
	login transports.Login
}

var (
	_ core.Instance  = (*Commands)(nil)
	_ core.NodeItems = (*Commands)(nil)
)

func newCommands(c core.Core) core.Instance {
	_, linked := c.Transport().(transports.Linker)
	login, _ := c.Transport().(transports.Login)
	return &Commands{c: c, linked: linked, login: login}
}

// Routes implements core.Instance: commands are executed on the gateway
// JID.
func (m *Commands) Routes() []router.Route {
	return []router.Route{{
		Kind: router.IQ, Types: []string{"get", "set"},
		Payload: xml.Name{Space: stanza.NSCommands, Local: "command"}, Targets: router.Gateway,
		Features: []router.Feature{{Var: stanza.NSCommands, Targets: router.Gateway}},
		Handler:  router.HandlerFunc(m.handle),
	}}
}

// Node implements core.NodeItems: the commands node.
func (m *Commands) Node() string { return stanza.NSCommands }

// Items implements core.NodeItems: the commands from may run, in display
// order.
func (m *Commands) Items(from jid.JID) []core.Item {
	var items []core.Item
	for _, c := range m.available(from.Bare().String()) {
		items = append(items, core.Item{JID: m.c.Domain().String(), Node: c.node, Name: c.name})
	}
	return items
}

// request is what the gateway reads of a received <command/>.
type request struct {
	Node      string       `xml:"node,attr"`
	Action    string       `xml:"action,attr"`
	SessionID string       `xml:"sessionid,attr"`
	Form      *stanza.Form `xml:"jabber:x:data x"`
}

// response is a <command/> as the gateway sends it.
type response struct {
	XMLName   xml.Name     `xml:"http://jabber.org/protocol/commands command"`
	Node      string       `xml:"node,attr"`
	SessionID string       `xml:"sessionid,attr,omitempty"`
	Status    string       `xml:"status,attr"`
	Actions   *actions     `xml:"actions,omitempty"`
	Notes     []note       `xml:"note"`
	Form      *stanza.Form `xml:"jabber:x:data x,omitempty"`
}

type actions struct {
	Execute  string    `xml:"execute,attr"`
	Complete *struct{} `xml:"complete"`
}

type note struct {
	Type string `xml:"type,attr"` // info, warn or error
	Text string `xml:",chardata"`
}

func info(text string) note   { return note{Type: "info", Text: text} }
func failed(text string) note { return note{Type: "error", Text: text} }

// command is one command offered on the gateway JID. A command with a form
// first answers with the form, then runs on its submission.
type command struct {
	node, name string
	admin      bool // only for admins
	linked     bool // only for transports whose chats are linked one by one
	// own removes the user's own data (their links, their session): a
	// user not allowed (one the operator took out of access.allow) may
	// still run it, and nothing else.
	own bool
	// form returns the form to fill in, or a note when there is nothing to
	// ask (nothing to unlink). Nil for commands that run at once.
	form func(m *Commands, ctx context.Context, user string) (*stanza.Form, *note, error)
	// run executes the command with the submitted form (nil if none) and
	// returns the note to show. A returned error is a store failure.
	run func(m *Commands, ctx context.Context, from jid.JID, f *stanza.Form) (note, error)
}

// available returns the commands user may run here, in display order.
func (m *Commands) available(user string) []command {
	var cs []command
	if m.login != nil {
		cs = m.loginCommands()
	}
	cs = append(cs, commands...)
	return slices.DeleteFunc(cs, func(c command) bool { return !m.may(user, c) })
}

// may reports whether user may run c here: an admin command an admin, the
// others a user allowed to use the gateway; a command that removes the
// user's own data anyone.
func (m *Commands) may(user string, c command) bool {
	switch {
	case c.linked && !m.linked:
		return false
	case c.admin:
		return m.c.Admin(user)
	}
	return c.own || m.c.Allowed(user) || m.c.Admin(user)
}

// storeTimeout bounds the store work of one command.
const storeTimeout = 5 * time.Second

// handle executes a command. ctx is the gateway's lifetime (core.Core's
// Context, passed by the router).
func (m *Commands) handle(ctx context.Context, w router.Writer, s *router.Stanza) error {
	var req request
	if _, err := s.DecodeChild(s.Payload, &req); err != nil {
		return err // bad-request
	}
	if s.Type != "set" {
		return stanza.NewError("modify", "bad-request", "commands are executed with an iq of type set")
	}
	user := s.From.Bare().String()
	var cmd *command
	all := commands
	if m.login != nil {
		all = append(m.loginCommands(), commands...)
	}
	for _, c := range all {
		if c.node == req.Node {
			cmd = &c
			break
		}
	}
	switch {
	case cmd == nil || (cmd.linked && !m.linked):
		return stanza.NewError("cancel", "item-not-found", "no such command: "+req.Node)
	case !m.may(user, *cmd):
		return stanza.NewError("auth", "forbidden", user+" may not run "+req.Node)
	}
	if cmd.node == nodeLogin && m.login != nil && req.Action != "cancel" {
		return m.handleLogin(ctx, w, s, req)
	}
	result := func(r response) {
		r.Node = cmd.node
		router.Result(w, s, r)
	}
	switch req.Action {
	case "", "execute", "complete":
	case "cancel":
		result(response{SessionID: req.SessionID, Status: "canceled"})
		return nil
	default:
		return stanza.NewError("modify", "bad-request", "this command has one stage: execute, complete or cancel")
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if cmd.form != nil && req.Form == nil {
		form, n, err := cmd.form(m, ctx, user)
		if err != nil {
			return core.StoreError(err)
		}
		if form == nil {
			result(response{Status: "completed", Notes: []note{*n}})
			return nil
		}
		result(response{SessionID: newSessionID(), Status: "executing",
			Actions: &actions{Execute: "complete", Complete: &struct{}{}}, Form: form})
		return nil
	}
	if f := req.Form; f != nil && f.Type == "cancel" {
		result(response{SessionID: req.SessionID, Status: "canceled"})
		return nil
	}
	// Running a command may commit (a link code, an unlink): off the read
	// loop.
	return m.c.Later(s.From, w, func(ctx context.Context, w router.Writer) {
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		n, err := cmd.run(m, ctx, s.From, req.Form)
		if err != nil {
			w.Encode(router.Refusal(s, router.ErrorFor(core.StoreError(err))))
			return
		}
		router.Result(w, s, response{Node: cmd.node, SessionID: req.SessionID, Status: "completed", Notes: []note{n}})
	})
}

// newSessionID returns a random XEP-0050 session id.
func newSessionID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
