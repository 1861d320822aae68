package adhoc

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"mellium.im/xmpp/jid"

	"xmppgw/component/stanza"
	"xmppgw/mapping"
	"xmppgw/transports"
)

// commands are the gateway's XEP-0050 commands. Users see their own links
// and link or unlink chats (a user no longer allowed may still unlink); admins manage everyone's links, read the
// statistics and send a test message.
var commands = []command{
	{node: "links", name: "My links", run: (*Commands).myLinks},
	{node: "link", name: "Link a chat", linked: true, run: (*Commands).link},
	{node: "unlink", name: "Unlink chats", linked: true, own: true, form: (*Commands).unlinkForm, run: (*Commands).unlink},
	{node: "admin-links", name: "All links (admin)", admin: true, run: (*Commands).allLinks},
	{node: "admin-link", name: "Link a chat to a user (admin)", admin: true, linked: true, form: (*Commands).adminLinkForm, run: (*Commands).adminLink},
	{node: "admin-unlink", name: "Remove a link (admin)", admin: true, linked: true, form: (*Commands).adminUnlinkForm, run: (*Commands).adminUnlink},
	{node: "stats", name: "Queue and error statistics (admin)", admin: true, run: (*Commands).stats},
	{node: "send-test", name: "Send a test message (admin)", admin: true, form: (*Commands).sendTestForm, run: (*Commands).sendTest},
}

func (m *Commands) myLinks(ctx context.Context, from jid.JID, _ *stanza.Form) (note, error) {
	user := from.Bare().String()
	name := m.c.Identity().Name
	if !m.linked {
		if n, ok := m.c.Transport().Accounts()[user]; ok {
			return info(fmt.Sprintf("Your %s number is %s. Write to NUMBER@%s to reach a contact from it.",
				name, n, m.c.Domain())), nil
		}
		return info(fmt.Sprintf("You have no %s number on this gateway; ask the operator to add one.", name)), nil
	}
	text, err := m.c.LinksText(ctx, user)
	return info(text), err
}

func (m *Commands) link(ctx context.Context, from jid.JID, _ *stanza.Form) (note, error) {
	help, err := m.c.NewLinkCode(ctx, from.Bare().String())
	return info(help), err
}

func (m *Commands) unlinkForm(ctx context.Context, user string) (*stanza.Form, *note, error) {
	links, err := m.c.Store().Links().LinksOf(ctx, m.c.Name(), user)
	if err != nil {
		return nil, nil, err
	}
	field := stanza.FormField{Var: "chats", Type: "list-multi", Label: "Chats to unlink", Required: &struct{}{}}
	for _, l := range links {
		if !l.Static {
			field.Options = append(field.Options, stanza.FormOption{Label: m.c.DescribeLink(l), Value: l.Remote})
		}
	}
	if len(field.Options) == 0 {
		n := info("No chat that you linked is linked to you (links set in the config stay).")
		return nil, &n, nil
	}
	return &stanza.Form{Type: "form", Title: "Unlink " + m.c.Identity().Name + " chats", Fields: []stanza.FormField{field}}, nil, nil
}

func (m *Commands) unlink(ctx context.Context, from jid.JID, f *stanza.Form) (note, error) {
	user := from.Bare().String()
	chats := f.Values("chats")
	if len(chats) == 0 {
		return failed("Choose at least one chat to unlink."), nil
	}
	var done []string
	// stop reports the chats unlinked so far and why the rest were not.
	stop := func(why string) note {
		if len(done) > 0 {
			why = "Unlinked " + strings.Join(done, ", ") + ". Stopped: " + why
		}
		return failed(why)
	}
	for _, c := range chats {
		remote, err := m.c.Transport().ParseAddr(c)
		if err != nil {
			return stop(c + ": " + err.Error()), nil
		}
		// Removed only while it is the user's: the check and the removal
		// are one statement.
		err = m.c.RemoveOwnLink(ctx, remote, user)
		var le *transports.LinkError
		switch {
		case errors.Is(err, mapping.ErrNotLinked):
			return stop(c + " is not linked to you."), nil
		case errors.As(err, &le):
			return stop(c + ": " + le.Msg), nil
		case err != nil:
			return note{}, err
		}
		done = append(done, string(remote))
	}
	return info("Unlinked " + strings.Join(done, ", ") + "."), nil
}

func (m *Commands) allLinks(ctx context.Context, _ jid.JID, _ *stanza.Form) (note, error) {
	var lines []string
	if !m.linked {
		for user, n := range m.c.Transport().Accounts() {
			lines = append(lines, fmt.Sprintf("%s: %s (set in the config)", user, n))
		}
		sort.Strings(lines)
	} else {
		links, err := m.c.Store().Links().AllLinks(ctx, m.c.Name())
		if err != nil {
			return note{}, err
		}
		for _, l := range links {
			lines = append(lines, l.User+": "+m.c.DescribeLink(l))
		}
	}
	if len(lines) == 0 {
		return info("No links."), nil
	}
	return info(fmt.Sprintf("%d links:\n%s", len(lines), strings.Join(lines, "\n"))), nil
}

func (m *Commands) adminLinkForm(context.Context, string) (*stanza.Form, *note, error) {
	id := m.c.Identity()
	return &stanza.Form{Type: "form", Title: "Link a " + id.Name + " chat to a user", Fields: []stanza.FormField{
		{Var: "user", Type: "jid-single", Label: "XMPP user (bare JID)", Required: &struct{}{}},
		{Var: "chat", Type: "text-single", Label: id.Prompt, Required: &struct{}{}},
	}}, nil, nil
}

func (m *Commands) adminLink(ctx context.Context, _ jid.JID, f *stanza.Form) (note, error) {
	u, err := jid.Parse(f.Value("user"))
	if err != nil || u.Localpart() == "" {
		return failed(fmt.Sprintf("%q is not a bare JID (user@domain).", f.Value("user"))), nil
	}
	user := u.Bare().String()
	if !m.c.Allowed(user) {
		return failed(user + " may not use this gateway (access.allow)."), nil
	}
	remote, n := m.parseChat(f.Value("chat"))
	if n != nil {
		return *n, nil
	}
	contact, err := mapping.ContactJID(remote, m.c.Domain().Domainpart())
	if err != nil {
		return failed(err.Error()), nil
	}
	err = m.c.AddLink(ctx, remote, user)
	if errors.Is(err, mapping.ErrStaticLink) || errors.Is(err, mapping.ErrLinkedToOther) {
		return failed(fmt.Sprintf("%s is linked already; remove that link first.", remote)), nil
	}
	if err != nil {
		return note{}, err
	}
	m.c.Logger().Info("chat linked by an admin", "remote", remote, "user", user)
	return info(fmt.Sprintf("Linked %s to %s.", contact, user)), nil
}

func (m *Commands) adminUnlinkForm(context.Context, string) (*stanza.Form, *note, error) {
	return &stanza.Form{Type: "form", Title: "Remove a link", Fields: []stanza.FormField{
		{Var: "chat", Type: "text-single", Label: m.c.Identity().Prompt, Required: &struct{}{}},
	}}, nil, nil
}

func (m *Commands) adminUnlink(ctx context.Context, _ jid.JID, f *stanza.Form) (note, error) {
	remote, n := m.parseChat(f.Value("chat"))
	if n != nil {
		return *n, nil
	}
	user, err := m.c.RemoveLink(ctx, remote)
	var le *transports.LinkError
	if errors.As(err, &le) {
		return failed(fmt.Sprintf("%s: %s", remote, le.Msg)), nil
	}
	if err != nil {
		return note{}, err
	}
	return info(fmt.Sprintf("Unlinked %s from %s.", remote, user)), nil
}

// parseChat reads a remote address typed in a form: the address itself or
// its contact JID.
func (m *Commands) parseChat(s string) (transports.Addr, *note) {
	if j, err := jid.Parse(s); err == nil && j.Localpart() != "" && j.Domainpart() == m.c.Domain().Domainpart() {
		s = mapping.AddrOf(j)
	}
	remote, err := m.c.Transport().ParseAddr(s)
	if err != nil {
		n := failed(fmt.Sprintf("%q: %v", s, err))
		return "", &n
	}
	return remote, nil
}

func (m *Commands) stats(ctx context.Context, _ jid.JID, _ *stanza.Form) (note, error) {
	out, in, err := m.c.Store().Depth(ctx, m.c.Name())
	if err != nil {
		return note{}, err
	}
	s := m.c.Status()
	conn := "connected"
	if !s.Connected {
		conn = "not connected"
	}
	net := "reachable"
	if !s.Reachable {
		net = "unreachable: " + s.Why
	}
	name := m.c.Identity().Name
	return info(fmt.Sprintf(`%s gateway %s: component %s; %s %s.
Queued: %d to %s, %d to XMPP.
Since start: %d sent, %d received, %d failed, %d retries, %d refused, %d over quota, %d duplicates ignored, %d reaching nobody.`,
		name, m.c.Domain(), conn, name, net,
		out, name, in,
		s.Sent, s.Received, s.Failed, s.Retries, s.Refused, s.OverQuota, s.Duplicates, s.Unowned)), nil
}

func (m *Commands) sendTestForm(context.Context, string) (*stanza.Form, *note, error) {
	return &stanza.Form{Type: "form", Title: "Send a test message", Fields: []stanza.FormField{
		{Var: "to", Type: "text-single", Label: m.c.Identity().Prompt, Required: &struct{}{}},
		{Var: "text", Type: "text-single", Label: "Text", Values: []string{"Test message from xmppgw"}},
	}}, nil, nil
}

// sendTest queues a message from the admin to a contact, through the same
// queue as any message; a failure comes back to the admin as an error
// message from the contact.
func (m *Commands) sendTest(ctx context.Context, from jid.JID, f *stanza.Form) (note, error) {
	remote, n := m.parseChat(f.Value("to"))
	if n != nil {
		return *n, nil
	}
	text := f.Value("text")
	if text == "" {
		text = "Test message from xmppgw"
	}
	if err := m.c.SendTest(ctx, from, remote, text); err != nil {
		var e *stanza.Error
		if errors.As(err, &e) {
			return failed(e.Text), nil
		}
		return note{}, err
	}
	contact, _ := mapping.ContactJID(remote, m.c.Domain().Domainpart())
	return info(fmt.Sprintf("Queued a test message to %s; a failure comes back to you as an error from %s.", remote, contact)), nil
}
