package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"text/tabwriter"

	"mellium.im/xmpp/jid"

	"xmppgw/component/links"
	"xmppgw/configs"
	"xmppgw/mapping"
	"xmppgw/transports"
)

const linksUsage = `usage:
  xmppgw links list   -config FILE [-transport NAME] [-user JID]
  xmppgw links add    -config FILE TRANSPORT CHAT USER
  xmppgw links remove -config FILE TRANSPORT CHAT
`

// cmdLinks lists, adds and removes links in the store through the same
// linking service (package links) as the admin commands from an XMPP
// client, with the same notices: the stanzas are queued in the store and
// the running gateway writes them (within its store poll, 5 s). Here, with
// no session, a new contact asks its user for a presence subscription;
// the admin command pushes it into the roster where the server granted
// roster privileges.
func cmdLinks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var onlyTransport, onlyUser *string
	return storeCommand{name: "links", usage: linksUsage, arity: map[string]int{"list": 0, "add": 3, "remove": 2},
		flags: func(fs *flag.FlagSet) {
			onlyTransport = fs.String("transport", "", "list: only this transport")
			onlyUser = fs.String("user", "", "list: only this user's links")
		},
		run: func(ctx context.Context, verb string, args []string, cfg *configs.Config, store *mapping.Store, stdout io.Writer) error {
			switch verb {
			case "list":
				return listLinks(ctx, cfg, store, *onlyTransport, *onlyUser, stdout)
			case "add":
				return addLink(ctx, cfg, store, args[0], args[1], args[2], stdout)
			}
			return removeLink(ctx, cfg, store, args[0], args[1], stdout)
		},
	}.main(ctx, args, stdout, stderr)
}

// usageError is a mistake in the command line, as opposed to a failure.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// linkTarget is a configured transport, built (without I/O) to parse
// addresses and to tell whether its contacts are linked one by one.
type linkTarget struct {
	tc     configs.Transport
	tr     transports.Transport
	linker transports.Linker
	links  *links.Service
}

func transportNamed(cfg *configs.Config, store *mapping.Store, name string) (linkTarget, error) {
	for _, tc := range cfg.Transports {
		if tc.Name != name {
			continue
		}
		typ, _ := transports.Lookup(tc.Type)
		tr, err := typ.New(transports.Params{Name: tc.Name, Domain: tc.Domain, State: store.KV(tc.Name),
			Logger: slog.New(slog.DiscardHandler)}, tc.Settings)
		if err != nil {
			return linkTarget{}, fmt.Errorf("transport %s: %w", name, err)
		}
		lk, _ := tr.(transports.Linker)
		svc := &links.Service{Store: store, Transport: tc.Name, Domain: jid.MustParse(tc.Domain), Network: typ.Identity.Name}
		return linkTarget{tc, tr, lk, svc}, nil
	}
	var names []string
	for _, tc := range cfg.Transports {
		names = append(names, tc.Name)
	}
	return linkTarget{}, usageError{fmt.Sprintf("no transport named %q; the config has %v", name, names)}
}

// chat parses a chat typed as an address or as its contact JID.
func (lt linkTarget) chat(s string) (transports.Addr, error) {
	if j, err := jid.Parse(s); err == nil && j.Localpart() != "" && j.Domainpart() == lt.tc.Domain {
		s = mapping.AddrOf(j)
	}
	a, err := lt.tr.ParseAddr(s)
	if err != nil {
		return "", usageError{err.Error()}
	}
	return a, nil
}

func (lt linkTarget) needLinker() error {
	if lt.linker == nil {
		return usageError{fmt.Sprintf("transport %s has no links: its users' numbers are set in its settings (numbers:) in the config", lt.tc.Name)}
	}
	return nil
}

func listLinks(ctx context.Context, cfg *configs.Config, store *mapping.Store, only, user string, w io.Writer) error {
	if user != "" {
		j, err := jid.Parse(user)
		if err != nil {
			return usageError{fmt.Sprintf("%q is not a JID", user)}
		}
		user = j.Bare().String()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TRANSPORT\tCONTACT\tUSER\tNAME\tORIGIN")
	found := only == ""
	for _, tc := range cfg.Transports {
		if only != "" && tc.Name != only {
			continue
		}
		found = true
		lt, err := transportNamed(cfg, store, tc.Name)
		if err != nil {
			return err
		}
		var rows [][]string
		if lt.linker == nil {
			for u, n := range lt.tr.Accounts() {
				if user == "" || u == user {
					rows = append(rows, []string{string(n), u, "", "config (number)"})
				}
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i][1] < rows[j][1] })
		} else {
			links, err := store.Links().AllLinks(ctx, tc.Name)
			if err != nil {
				return err
			}
			for _, l := range links {
				if user != "" && l.User != user {
					continue
				}
				origin := "linked"
				if l.Static {
					origin = "config"
				}
				c, _ := mapping.ContactJID(transports.Addr(l.Remote), tc.Domain)
				rows = append(rows, []string{c.String(), l.User, l.Name, origin})
			}
		}
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", tc.Name, r[0], r[1], r[2], r[3])
		}
	}
	if !found {
		_, err := transportNamed(cfg, store, only)
		return err
	}
	return tw.Flush()
}

// linkedChat is chat on the transport named transport, which must link
// its chats one by one.
func linkedChat(cfg *configs.Config, store *mapping.Store, transport, chat string) (linkTarget, transports.Addr, error) {
	lt, err := transportNamed(cfg, store, transport)
	if err != nil {
		return linkTarget{}, "", err
	}
	if err := lt.needLinker(); err != nil {
		return linkTarget{}, "", err
	}
	remote, err := lt.chat(chat)
	return lt, remote, err
}

func addLink(ctx context.Context, cfg *configs.Config, store *mapping.Store, transport, chat, user string, w io.Writer) error {
	lt, remote, err := linkedChat(cfg, store, transport, chat)
	if err != nil {
		return err
	}
	u, err := jid.Parse(user)
	if err != nil || u.Localpart() == "" || u.Resourcepart() != "" {
		return usageError{fmt.Sprintf("%q is not a bare JID (user@domain)", user)}
	}
	if !cfg.Allowed(u.String()) {
		return usageError{fmt.Sprintf("%s is not allowed to use the gateway (access.allow)", u)}
	}
	err = lt.links.Add(ctx, remote, u.String())
	if errors.Is(err, mapping.ErrStaticLink) || errors.Is(err, mapping.ErrLinkedToOther) {
		l, _, _ := store.Links().LinkOf(ctx, transport, string(remote))
		return fmt.Errorf("%s is linked to %s already; remove that link first", remote, l.User)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "linked %s %s to %s; the gateway tells %s and asks for a presence subscription\n", transport, remote, u, u)
	return nil
}

func removeLink(ctx context.Context, cfg *configs.Config, store *mapping.Store, transport, chat string, w io.Writer) error {
	lt, remote, err := linkedChat(cfg, store, transport, chat)
	if err != nil {
		return err
	}
	user, err := lt.links.Remove(ctx, remote)
	if errors.Is(err, mapping.ErrStaticLink) {
		return fmt.Errorf("%s is linked in the config (settings.chats); remove it there", remote)
	}
	if errors.Is(err, mapping.ErrNotLinked) {
		return fmt.Errorf("%s is not linked", remote)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "unlinked %s %s from %s; the gateway tells %s\n", transport, remote, user, user)
	return nil
}
