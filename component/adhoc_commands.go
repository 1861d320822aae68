package component

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/mapping"
	"xmppgw/transports"
)

// adhocCommands are the gateway's XEP-0050 commands. Users see their own
// links and link or unlink chats; admins manage everyone's links, read the
// statistics and send a test message.
var adhocCommands = []adhocCommand{
	{node: "links", name: "My links", run: (*Gateway).cmdMyLinks},
	{node: "link", name: "Link a chat", linked: true, run: (*Gateway).cmdLink},
	{node: "unlink", name: "Unlink chats", linked: true, form: (*Gateway).unlinkForm, run: (*Gateway).cmdUnlink},
	{node: "admin-links", name: "All links (admin)", admin: true, run: (*Gateway).cmdAllLinks},
	{node: "admin-link", name: "Link a chat to a user (admin)", admin: true, linked: true, form: (*Gateway).adminLinkForm, run: (*Gateway).cmdAdminLink},
	{node: "admin-unlink", name: "Remove a link (admin)", admin: true, linked: true, form: (*Gateway).adminUnlinkForm, run: (*Gateway).cmdAdminUnlink},
	{node: "stats", name: "Queue and error statistics (admin)", admin: true, run: (*Gateway).cmdStats},
	{node: "send-test", name: "Send a test message (admin)", admin: true, form: (*Gateway).sendTestForm, run: (*Gateway).cmdSendTest},
}

func (g *Gateway) cmdMyLinks(ctx context.Context, from jid.JID, _ *dataForm) (cmdNote, error) {
	user := from.Bare().String()
	if g.linker == nil {
		if n, ok := g.o.Transport.Accounts()[user]; ok {
			return info(fmt.Sprintf("Your %s number is %s. Write to NUMBER@%s to reach a contact from it.",
				g.o.Identity.Name, n, g.domain)), nil
		}
		return info(fmt.Sprintf("You have no %s number on this gateway; ask the operator to add one.", g.o.Identity.Name)), nil
	}
	text, err := g.linksText(ctx, user)
	return info(text), err
}

// linksText lists user's links for a chat message or a command note.
func (g *Gateway) linksText(ctx context.Context, user string) (string, error) {
	links, err := g.o.Store.LinksOf(ctx, g.name, user)
	if err != nil {
		return "", err
	}
	if len(links) == 0 {
		return "No " + g.o.Identity.Name + " chat is linked to you.", nil
	}
	text := "Your linked " + g.o.Identity.Name + " chats:"
	for _, l := range links {
		text += "\n" + g.describeLink(l)
	}
	return text, nil
}

// describeLink is one line about a link: contact JID, name, origin.
func (g *Gateway) describeLink(l mapping.Link) string {
	c, _ := mapping.ContactJID(transports.Addr(l.Remote), g.domain.Domainpart())
	s := c.String()
	if l.Name != "" {
		s += " " + l.Name
	}
	if l.Static {
		s += " (set in the config)"
	}
	return s
}

func (g *Gateway) cmdLink(ctx context.Context, from jid.JID, _ *dataForm) (cmdNote, error) {
	help, err := g.newLinkCode(ctx, from.Bare().String())
	return info(help), err
}

func (g *Gateway) unlinkForm(ctx context.Context, user string) (*dataForm, *cmdNote, error) {
	links, err := g.o.Store.LinksOf(ctx, g.name, user)
	if err != nil {
		return nil, nil, err
	}
	field := formField{Var: "chats", Type: "list-multi", Label: "Chats to unlink", Required: &struct{}{}}
	for _, l := range links {
		if !l.Static {
			field.Options = append(field.Options, formOption{Label: g.describeLink(l), Value: l.Remote})
		}
	}
	if len(field.Options) == 0 {
		n := info("No chat that you linked is linked to you (links set in the config stay).")
		return nil, &n, nil
	}
	return &dataForm{Type: "form", Title: "Unlink " + g.o.Identity.Name + " chats", Fields: []formField{field}}, nil, nil
}

func (g *Gateway) cmdUnlink(ctx context.Context, from jid.JID, f *dataForm) (cmdNote, error) {
	user := from.Bare().String()
	chats := f.Values("chats")
	if len(chats) == 0 {
		return failed("Choose at least one chat to unlink."), nil
	}
	var done []string
	// stop reports the chats unlinked so far and why the rest were not.
	stop := func(why string) cmdNote {
		if len(done) > 0 {
			why = "Unlinked " + strings.Join(done, ", ") + ". Stopped: " + why
		}
		return failed(why)
	}
	for _, c := range chats {
		remote, err := g.o.Transport.ParseAddr(c)
		if err != nil {
			return stop(c + ": " + err.Error()), nil
		}
		if ok, err := g.linkedTo(ctx, remote, user); err != nil {
			return cmdNote{}, err
		} else if !ok {
			return stop(c + " is not linked to you."), nil
		}
		if _, err := g.unlink(ctx, remote, nil); err != nil {
			var le *transports.LinkError
			if errors.As(err, &le) {
				return stop(c + ": " + le.Msg), nil
			}
			return cmdNote{}, err
		}
		done = append(done, string(remote))
	}
	return info("Unlinked " + strings.Join(done, ", ") + "."), nil
}

func (g *Gateway) cmdAllLinks(ctx context.Context, _ jid.JID, _ *dataForm) (cmdNote, error) {
	var lines []string
	if g.linker == nil {
		for user, n := range g.o.Transport.Accounts() {
			lines = append(lines, fmt.Sprintf("%s: %s (set in the config)", user, n))
		}
		sort.Strings(lines)
	} else {
		links, err := g.o.Store.AllLinks(ctx, g.name)
		if err != nil {
			return cmdNote{}, err
		}
		for _, l := range links {
			lines = append(lines, l.User+": "+g.describeLink(l))
		}
	}
	if len(lines) == 0 {
		return info("No links."), nil
	}
	return info(fmt.Sprintf("%d links:\n%s", len(lines), strings.Join(lines, "\n"))), nil
}

func (g *Gateway) adminLinkForm(context.Context, string) (*dataForm, *cmdNote, error) {
	return &dataForm{Type: "form", Title: "Link a " + g.o.Identity.Name + " chat to a user", Fields: []formField{
		{Var: "user", Type: "jid-single", Label: "XMPP user (bare JID)", Required: &struct{}{}},
		{Var: "chat", Type: "text-single", Label: g.o.Identity.Prompt, Required: &struct{}{}},
	}}, nil, nil
}

func (g *Gateway) cmdAdminLink(ctx context.Context, _ jid.JID, f *dataForm) (cmdNote, error) {
	u, err := jid.Parse(f.Value("user"))
	if err != nil || u.Localpart() == "" {
		return failed(fmt.Sprintf("%q is not a bare JID (user@domain).", f.Value("user"))), nil
	}
	user := u.Bare().String()
	if !g.allowed(user) {
		return failed(user + " may not use this gateway (access.allow)."), nil
	}
	remote, note := g.parseChat(f.Value("chat"))
	if note != nil {
		return *note, nil
	}
	contact, err := mapping.ContactJID(remote, g.domain.Domainpart())
	if err != nil {
		return failed(err.Error()), nil
	}
	err = g.o.Store.AddLink(ctx, g.name, string(remote), user,
		append(g.addContact(contact.String(), user, ""),
			render(message{Type: "chat", From: g.domain.String(), To: user,
				Body: fmt.Sprintf("An administrator linked %s chat %s to you: it is your contact %s.", g.o.Identity.Name, remote, contact)}))...)
	if errors.Is(err, mapping.ErrStaticLink) || errors.Is(err, mapping.ErrLinkedToOther) {
		return failed(fmt.Sprintf("%s is linked already; remove that link first.", remote)), nil
	}
	if err != nil {
		return cmdNote{}, err
	}
	wake(g.wakeIn)
	g.log.Info("chat linked by an admin", "remote", remote, "user", user)
	return info(fmt.Sprintf("Linked %s to %s.", contact, user)), nil
}

func (g *Gateway) adminUnlinkForm(context.Context, string) (*dataForm, *cmdNote, error) {
	return &dataForm{Type: "form", Title: "Remove a link", Fields: []formField{
		{Var: "chat", Type: "text-single", Label: g.o.Identity.Prompt, Required: &struct{}{}},
	}}, nil, nil
}

func (g *Gateway) cmdAdminUnlink(ctx context.Context, _ jid.JID, f *dataForm) (cmdNote, error) {
	remote, note := g.parseChat(f.Value("chat"))
	if note != nil {
		return *note, nil
	}
	user, err := g.unlink(ctx, remote, nil)
	var le *transports.LinkError
	if errors.As(err, &le) {
		return failed(fmt.Sprintf("%s: %s", remote, le.Msg)), nil
	}
	if err != nil {
		return cmdNote{}, err
	}
	return info(fmt.Sprintf("Unlinked %s from %s.", remote, user)), nil
}

// parseChat reads a remote address typed in a form: the address itself or
// its contact JID.
func (g *Gateway) parseChat(s string) (transports.Addr, *cmdNote) {
	if j, err := jid.Parse(s); err == nil && j.Localpart() != "" && j.Domainpart() == g.domain.Domainpart() {
		s = mapping.AddrOf(j)
	}
	remote, err := g.o.Transport.ParseAddr(s)
	if err != nil {
		n := failed(fmt.Sprintf("%q: %v", s, err))
		return "", &n
	}
	return remote, nil
}

func (g *Gateway) cmdStats(ctx context.Context, _ jid.JID, _ *dataForm) (cmdNote, error) {
	out, in, err := g.o.Store.Depth(ctx, g.name)
	if err != nil {
		return cmdNote{}, err
	}
	s := &g.Stats
	conn := "connected"
	if !g.Connected() {
		conn = "not connected"
	}
	reach := g.reach.Load()
	net := "reachable"
	if !reach.ok {
		net = "unreachable: " + reach.why
	}
	return info(fmt.Sprintf(`%s gateway %s: component %s; %s %s.
Queued: %d to %s, %d to XMPP.
Since start: %d sent, %d received, %d failed, %d retries, %d refused, %d over quota, %d duplicates ignored, %d reaching nobody.`,
		g.o.Identity.Name, g.domain, conn, g.o.Identity.Name, net,
		out, g.o.Identity.Name, in,
		s.ToProvider.Load(), s.FromProvider.Load(), s.Failed.Load(), s.Retries.Load(), s.Refused.Load(),
		s.OverQuota.Load(), s.Duplicates.Load(), s.Unowned.Load())), nil
}

func (g *Gateway) sendTestForm(context.Context, string) (*dataForm, *cmdNote, error) {
	return &dataForm{Type: "form", Title: "Send a test message", Fields: []formField{
		{Var: "to", Type: "text-single", Label: g.o.Identity.Prompt, Required: &struct{}{}},
		{Var: "text", Type: "text-single", Label: "Text", Values: []string{"Test message from xmppgw"}},
	}}, nil, nil
}

// cmdSendTest queues a message from the admin to a contact, through the
// same queue as any message; a failure comes back to the admin as an error
// message from the contact.
func (g *Gateway) cmdSendTest(ctx context.Context, from jid.JID, f *dataForm) (cmdNote, error) {
	remote, note := g.parseChat(f.Value("to"))
	if note != nil {
		return *note, nil
	}
	text := f.Value("text")
	if text == "" {
		text = "Test message from xmppgw"
	}
	var account transports.Addr
	if g.linker == nil {
		a, e := g.accountFor(ctx, from.Bare().String(), remote)
		if e != nil {
			return failed(e.Text), nil
		}
		account = a
	}
	j := mapping.Job{Transport: g.name, Sender: from.String(), Account: string(account), Remote: string(remote),
		Body: text, StanzaID: "test-" + newSessionID(), Shared: len(g.owners[account]) > 1}
	id, _, err := g.o.Store.Enqueue(ctx, j)
	if err != nil {
		return cmdNote{}, err
	}
	j.ID, j.Created = id, time.Now()
	g.handOff(j)
	contact, _ := mapping.ContactJID(remote, g.domain.Domainpart())
	return info(fmt.Sprintf("Queued a test message to %s; a failure comes back to you as an error from %s.", remote, contact)), nil
}
