package mapping

import (
	"context"
	"database/sql"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	selectAllLinks = `SELECT remote, jid, name, static, asked, linked_by FROM links
		WHERE transport = ? ORDER BY jid, remote`
	selectLinkOwner = `SELECT jid, static FROM links WHERE transport = ? AND remote = ?`
	insertAdminLink = `INSERT INTO links (transport, remote, jid, name, static, asked, created)
		VALUES (?, ?, ?, '', FALSE, ?, ?)`
)

// AllLinks returns every link of transport, ordered by user then remote.
func (h LinkTable) AllLinks(ctx context.Context, transport string) ([]Link, error) {
	s := h.s
	return s.queryLinks(ctx, selectAllLinks, transport)
}

// AddLink links remote to user on an operator's behalf, as if the user had
// redeemed a code: the link can be removed like a code link. stanzas, if
// any, are queued for XMPP in the same transaction and the link is marked
// as asked; without them the contact asks with its first message (a
// config link asks when the gateway connects). It refuses with
// ErrStaticLink or ErrLinkedToOther when remote is linked already (to the
// same user it succeeds and does nothing).
func (h LinkTable) AddLink(ctx context.Context, transport, remote, user string, stanzas ...[]byte) error {
	s := h.s
	return s.txRefusable(ctx, func(tx *sqlTx, refuse func(error) error) error {
		var owner string
		var static bool
		err := tx.QueryRowContext(ctx, selectLinkOwner,
			transport, remote).Scan(&owner, &static)
		switch {
		case err == nil && owner == user:
			return nil
		case err == nil && static:
			return refuse(ErrStaticLink)
		case err == nil:
			return refuse(ErrLinkedToOther)
		case err != sql.ErrNoRows:
			return err
		}
		asked := len(stanzas) > 0
		if _, err := tx.ExecContext(ctx, insertAdminLink, transport, remote, user, asked, s.millis()); err != nil {
			return err
		}
		return queueAll(ctx, tx, transport, stanzas, s.millis())
	})
}
