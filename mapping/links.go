package mapping

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	staticRemotes    = `SELECT remote FROM links WHERE transport = ? AND static = TRUE`
	deleteLink       = `DELETE FROM links WHERE transport = ? AND remote = ?`
	deleteOwnLink    = `DELETE FROM links WHERE transport = ? AND remote = ? AND jid = ? AND static = FALSE`
	upsertStaticLink = `INSERT INTO links (transport, remote, jid, name, static, asked, created)
		VALUES (?, ?, ?, '', TRUE, FALSE, ?)
		ON CONFLICT (transport, remote) DO UPDATE SET static = TRUE, jid = excluded.jid,
			asked = CASE WHEN links.jid = excluded.jid THEN links.asked ELSE FALSE END`
	selectLink = `SELECT jid, name, static, asked, linked_by FROM links
		WHERE transport = ? AND remote = ?`
	selectUserLinks = `SELECT remote, jid, name, static, asked, linked_by FROM links
		WHERE transport = ? AND jid = ? ORDER BY remote`
	selectLinkedUsers = `SELECT DISTINCT jid FROM links WHERE transport = ? ORDER BY jid`
	upsertLinkCode    = `INSERT INTO link_codes (transport, code, jid, expires) VALUES (?, ?, ?, ?)
		ON CONFLICT (transport, jid) DO UPDATE SET code = excluded.code, expires = excluded.expires`
	codeOwner      = `SELECT jid FROM link_codes WHERE transport = ? AND code = ? AND expires >= ?`
	userCode       = `SELECT code, expires FROM link_codes WHERE transport = ? AND jid = ? AND expires >= ?`
	linkOwner      = `SELECT jid, static, linked_by FROM links WHERE transport = ? AND remote = ?`
	deleteLinkCode = `DELETE FROM link_codes WHERE transport = ? AND code = ?`
	upsertCodeLink = `INSERT INTO links (transport, remote, jid, name, static, asked, created, linked_by)
		VALUES (?, ?, ?, ?, FALSE, TRUE, ?, ?)
		ON CONFLICT (transport, remote) DO UPDATE SET name = excluded.name, asked = TRUE, linked_by = excluded.linked_by`
	deleteUserLinks = `DELETE FROM links WHERE transport = ? AND jid = ? AND static = FALSE
		RETURNING remote`
	markAsked = `UPDATE links SET asked = TRUE, name = ?
		WHERE transport = ? AND remote = ? AND asked = FALSE`
	upsertImportedLink = `INSERT INTO links (transport, remote, jid, name, static, asked, created, linked_by)
		VALUES (?, ?, ?, ?, FALSE, TRUE, ?, ?)
		ON CONFLICT (transport, remote) DO UPDATE SET jid = excluded.jid, name = excluded.name,
			static = FALSE, asked = TRUE, created = excluded.created, linked_by = excluded.linked_by`
)

// Link is a remote contact (a Telegram chat) linked to one XMPP user.
type Link struct {
	Remote string
	User   string // bare JID
	Name   string // the chat's title or the person's name, if known
	Static bool   // set in the config, not with a code
	Asked  bool   // the contact has asked the user to subscribe
	// LinkedBy is the group member who linked a group with a code (the
	// network's id of them, see Asker); "" for a one-to-one chat, a link
	// from the config, or a group linked before this was recorded.
	LinkedBy string
}

// Asker is who asked, in a group chat, to link or unlink it: a member, by
// the network's stable id of them ("" if the network gave none), and
// whether the network said, when they asked, that they administer it.
type Asker struct {
	Member string
	Admin  bool
}

// mayChange reports whether who may change the link of a group that by
// linked: an administrator, or the member who linked it. A link recorded
// without a member (made before members were recorded) only an
// administrator may change.
func (who Asker) mayChange(by string) bool {
	return who.Admin || (who.Member != "" && who.Member == by)
}

// Errors of linking, worded for the remote user who typed the command.
var (
	ErrBadCode       = errors.New("that code is unknown or has expired; ask the gateway for a new one")
	ErrStaticLink    = errors.New("this chat's link is set in the gateway's config; ask its operator to change it")
	ErrLinkedToOther = errors.New("this chat is already linked to another XMPP user; send /unlink first")
	ErrNotLinked     = errors.New("this chat is not linked")
	ErrNotLinker     = errors.New("only the member who linked this chat, or an administrator of it, may change its link")
)

// SyncStaticLinks makes the config's links (remote -> bare JID) the static
// links of transport: new ones are added, changed ones updated and those no
// longer in the config removed. A config link replaces a code link.
func (h LinkTable) SyncStaticLinks(ctx context.Context, transport string, links map[string]string) error {
	s := h.s
	now := s.millis()
	return s.tx(ctx, func(tx *sqlTx) error {
		static, err := queryAll(ctx, tx.QueryContext, scanValue[string], staticRemotes, transport)
		if err != nil {
			return err
		}
		for _, r := range static {
			if _, ok := links[r]; ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, deleteLink, transport, r); err != nil {
				return err
			}
		}
		for _, r := range slices.Sorted(maps.Keys(links)) {
			_, err := tx.ExecContext(ctx, upsertStaticLink,
				transport, r, links[r], now)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// LinkOf returns the link of remote, if there is one.
func (h LinkTable) LinkOf(ctx context.Context, transport, remote string) (Link, bool, error) {
	s := h.s
	l := Link{Remote: remote}
	err := s.queryRow(ctx, selectLink, transport, remote).Scan(&l.User, &l.Name, &l.Static, &l.Asked, &l.LinkedBy)
	if err == sql.ErrNoRows {
		return Link{}, false, nil
	}
	if err != nil {
		return Link{}, false, unavailable(err)
	}
	return l, true, nil
}

// LinksOf returns user's links, ordered by remote.
func (h LinkTable) LinksOf(ctx context.Context, transport, user string) ([]Link, error) {
	s := h.s
	return s.queryLinks(ctx, selectUserLinks, transport, user)
}

// LinkedUsers returns the users with at least one link, sorted.
func (h LinkTable) LinkedUsers(ctx context.Context, transport string) ([]string, error) {
	s := h.s
	users, err := queryAll(ctx, s.query, scanValue[string], selectLinkedUsers, transport)
	return users, unavailable(err)
}

func (s *Store) queryLinks(ctx context.Context, q string, args ...any) ([]Link, error) {
	links, err := queryAll(ctx, s.query, scanLink, q, args...)
	return links, unavailable(err)
}

// scanLink scans remote, jid, name, static, asked, linked_by.
func scanLink(r *sql.Rows, l *Link) error {
	return r.Scan(&l.Remote, &l.User, &l.Name, &l.Static, &l.Asked, &l.LinkedBy)
}

// codeAlphabet has no look-alike characters (0/O, 1/I).
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewLinkCode stores and returns a one-time code that links a remote contact
// to user when redeemed within ttl. A user has one outstanding code: a new
// one replaces the one before, which no longer works.
func (h LinkTable) NewLinkCode(ctx context.Context, transport, user string, ttl time.Duration) (string, error) {
	s := h.s
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	code := string(b)
	err := s.tx(ctx, func(tx *sqlTx) error {
		_, err := tx.ExecContext(ctx, upsertLinkCode,
			transport, code, user, s.now().Add(ttl).UnixMilli())
		return err
	})
	return code, err
}

// CurrentLinkCode returns user's link code if it is still good for at least
// left, and when it expires.
func (h LinkTable) CurrentLinkCode(ctx context.Context, transport, user string, left time.Duration) (string, time.Time, bool, error) {
	s := h.s
	var code string
	var expires int64
	err := s.queryRow(ctx, userCode, transport, user, s.now().Add(left).UnixMilli()).Scan(&code, &expires)
	if err == sql.ErrNoRows {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, unavailable(err)
	}
	return code, time.UnixMilli(expires), true, nil
}

// WithOwners returns the links whose RedeemLinkCode and
// RedeemGroupLinkCode refuse a code of a user that owners rejects (one no
// longer allowed to use the gateway) as they refuse an unknown code
// (ErrBadCode), in the transaction that reads the code's owner.
func (h LinkTable) WithOwners(owners func(user string) bool) LinkTable {
	h.owners = owners
	return h
}

// RedeemLinkCode links remote (named name) to the user who asked for code,
// using the code up, and queues stanzas(user) for XMPP in the same
// transaction. It returns the user. Errors other than ErrUnavailable are
// meant to be shown to the remote. It is for a one-to-one chat, whose one
// person is whoever asks; a group's member asks with RedeemGroupLinkCode.
func (h LinkTable) RedeemLinkCode(ctx context.Context, transport, code, remote, name string, stanzas func(user string) [][]byte) (string, error) {
	return h.s.redeem(ctx, transport, code, remote, name, nil, h.owners, stanzas)
}

// RedeemGroupLinkCode is RedeemLinkCode for a group, asked by who: any
// member may link a group that is not linked, and who is recorded as the
// member who linked it; a linked group only that member or an
// administrator may link again (ErrNotLinker).
func (h LinkTable) RedeemGroupLinkCode(ctx context.Context, transport, code, remote, name string, who Asker, stanzas func(user string) [][]byte) (string, error) {
	return h.s.redeem(ctx, transport, code, remote, name, &who, h.owners, stanzas)
}

func (s *Store) redeem(ctx context.Context, transport, code, remote, name string, who *Asker, owners func(string) bool, stanzas func(user string) [][]byte) (string, error) {
	by := ""
	if who != nil {
		by = who.Member
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	var user string
	err := s.txRefusable(ctx, func(tx *sqlTx, refuse func(error) error) error {
		err := tx.QueryRowContext(ctx, codeOwner,
			transport, code, s.millis()).Scan(&user)
		if err == sql.ErrNoRows || err == nil && owners != nil && !owners(user) {
			return refuse(ErrBadCode)
		}
		if err != nil {
			return err
		}
		owner, refusal, err := linkChange(ctx, tx, transport, remote, who)
		switch {
		case err != nil:
			return err
		case refusal != nil:
			return refuse(refusal)
		case owner != "" && owner != user:
			return refuse(ErrLinkedToOther)
		}
		res, err := tx.ExecContext(ctx, deleteLinkCode, transport, code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return refuse(ErrBadCode) // another process redeemed it meanwhile
		}
		_, err = tx.ExecContext(ctx, upsertCodeLink,
			transport, remote, user, name, s.millis(), by)
		if err != nil {
			return err
		}
		return queueAll(ctx, tx, transport, stanzas(user), s.millis())
	})
	if err != nil {
		return "", err
	}
	return user, nil
}

// linkChange reads remote's link for a change asked by who (nil: not a
// group's member): the user it links to ("" if none), or why the change is
// refused (ErrStaticLink, ErrNotLinker).
func linkChange(ctx context.Context, tx *sqlTx, transport, remote string, who *Asker) (user string, refusal, err error) {
	var static bool
	var linker string
	err = tx.QueryRowContext(ctx, linkOwner, transport, remote).Scan(&user, &static, &linker)
	switch {
	case err == sql.ErrNoRows:
		return "", nil, nil
	case err != nil:
		return "", nil, err
	case static:
		return user, ErrStaticLink, nil
	case who != nil && !who.mayChange(linker):
		return user, ErrNotLinker, nil
	}
	return user, nil, nil
}

// Unlink removes the code link of remote, queuing stanzas(user) for XMPP in
// the same transaction, and returns the user it was linked to. It is for a
// one-to-one chat, or a request from the XMPP side; a group's member asks
// with UnlinkGroup.
func (h LinkTable) Unlink(ctx context.Context, transport, remote string, stanzas func(user string) [][]byte) (string, error) {
	return h.s.unlink(ctx, transport, remote, nil, "", stanzas)
}

// UnlinkOwn is Unlink asked by user, from XMPP, for a chat of their own:
// the link is removed only if it still links remote to user, checked by
// the statement that removes it. A link to anyone else, or to nobody, is
// ErrNotLinked (one answer: who linked what is not for others to learn).
func (h LinkTable) UnlinkOwn(ctx context.Context, transport, remote, user string, stanzas func(user string) [][]byte) error {
	_, err := h.s.unlink(ctx, transport, remote, nil, user, stanzas)
	return err
}

// UnlinkGroup is Unlink asked by who, a member of the group remote: only
// the member who linked it or an administrator may (ErrNotLinker).
func (h LinkTable) UnlinkGroup(ctx context.Context, transport, remote string, who Asker, stanzas func(user string) [][]byte) (string, error) {
	return h.s.unlink(ctx, transport, remote, &who, "", stanzas)
}

// unlink removes remote's link, asked by who (a group's member, or nil);
// if own is set, only while it links remote to own.
func (s *Store) unlink(ctx context.Context, transport, remote string, who *Asker, own string, stanzas func(user string) [][]byte) (string, error) {
	var user string
	err := s.txRefusable(ctx, func(tx *sqlTx, refuse func(error) error) error {
		var refusal error
		var err error
		user, refusal, err = linkChange(ctx, tx, transport, remote, who)
		switch {
		case err != nil:
			return err
		case user == "" || own != "" && user != own:
			return refuse(ErrNotLinked)
		case refusal != nil:
			return refuse(refusal)
		}
		if own == "" {
			_, err = tx.ExecContext(ctx, deleteLink, transport, remote)
		} else {
			var res sql.Result
			if res, err = tx.ExecContext(ctx, deleteOwnLink, transport, remote, own); err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return refuse(ErrNotLinked) // changed since it was read
				}
			}
		}
		if err != nil {
			return err
		}
		return queueAll(ctx, tx, transport, stanzas(user), s.millis())
	})
	if err != nil {
		return "", err
	}
	return user, nil
}

// UnlinkUser removes every code link of user, queuing stanzas(remote) for
// each in the same transaction, and returns the remotes unlinked.
func (h LinkTable) UnlinkUser(ctx context.Context, transport, user string, stanzas func(remote string) [][]byte) ([]string, error) {
	s := h.s
	var removed []string
	err := s.tx(ctx, func(tx *sqlTx) error {
		var err error
		if removed, err = queryAll(ctx, tx.QueryContext, scanValue[string], deleteUserLinks, transport, user); err != nil {
			return err
		}
		slices.Sort(removed)
		for _, r := range removed {
			if err := queueAll(ctx, tx, transport, stanzas(r), s.millis()); err != nil {
				return err
			}
		}
		return nil
	})
	return removed, err
}

// MarkAsked records that remote's contact asked its user to subscribe,
// queuing stanzas in the same transaction, unless that was done before. It
// reports whether it was done now.
func (h LinkTable) MarkAsked(ctx context.Context, transport, remote, name string, stanzas ...[]byte) (bool, error) {
	s := h.s
	var done bool
	err := s.tx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, markAsked, name, transport, remote)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		return queueAll(ctx, tx, transport, stanzas, s.millis())
	})
	return done, err
}

func queueAll(ctx context.Context, tx *sqlTx, transport string, stanzas [][]byte, now int64) error {
	for _, st := range stanzas {
		if err := queueStanza(ctx, tx, transport, st, now); err != nil {
			return err
		}
	}
	return nil
}

// ImportLinks adds code links in one transaction, replacing any link of the
// same remotes, without asking anyone to subscribe. It is for bulk loads
// (an import, a benchmark's fixture).
func (h LinkTable) ImportLinks(ctx context.Context, transport string, links []Link) error {
	s := h.s
	now := s.millis()
	return s.tx(ctx, func(tx *sqlTx) error {
		for _, l := range links {
			if _, err := tx.ExecContext(ctx, upsertImportedLink,
				transport, l.Remote, l.User, l.Name, now, l.LinkedBy); err != nil {
				return err
			}
		}
		return nil
	})
}
