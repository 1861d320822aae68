package mapping

import (
	"context"
	"fmt"
	"slices"
)

// Every row keyed by a transport is under the transport's name from the
// config. A transport renamed or removed leaves its rows under the old
// name, where no gateway reads them: TransportNames finds such names and
// DropTransport deletes their rows.

// TransportRows counts the rows the store holds under one transport name.
type TransportRows struct {
	Jobs   int64 // messages from XMPP not yet sent to the provider (outbox)
	ToXMPP int64 // stanzas not yet written to XMPP (to_xmpp)
	Links  int64 // chats linked to users (links)
	// Other is every other row: link codes, the transport's state, rooms'
	// history and members, who wrote last from a shared account, and the
	// records of messages sent and events taken (pruned after Retention).
	Other int64
}

// Pending reports whether messages wait under the name, in either
// direction.
func (r TransportRows) Pending() bool { return r.Jobs > 0 || r.ToXMPP > 0 }

// Total is the number of rows.
func (r TransportRows) Total() int64 { return r.Jobs + r.ToXMPP + r.Links + r.Other }

// The tables with a transport column: those that last (not pruned by
// age), each with an index whose first column is transport, and those
// whose rows Prune deletes in time.
var (
	lastingTransportTables = []string{"outbox", "to_xmpp", "links", "link_codes", "kv", "last_writer", "room_history", "room_members"}
	prunedTransportTables  = []string{"sent", "sent_ref", "early_report", "seen", "seen_events"}
)

// transportNamesQuery lists the distinct transport names of table through
// its index, one lookup a name (a loose index scan), where SELECT DISTINCT
// would read every row.
func transportNamesQuery(table string) string {
	return fmt.Sprintf(`WITH RECURSIVE names(n) AS (
	SELECT min(transport) FROM %[1]s
	UNION ALL
	SELECT (SELECT min(transport) FROM %[1]s WHERE transport > names.n) FROM names WHERE names.n IS NOT NULL
) SELECT n FROM names WHERE n IS NOT NULL`, table)
}

// TransportNames returns, sorted, the transport names the store holds
// lasting rows under: queued messages, links, link codes, state, rooms.
// Names with only rows that Prune deletes in time are not listed.
func (s *Store) TransportNames(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	for _, table := range lastingTransportTables {
		rows, err := s.query(ctx, transportNamesQuery(table))
		if err != nil {
			return nil, unavailable(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, unavailable(err)
			}
			seen[n] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, unavailable(err)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// CountTransport counts the rows under transport name, in every table.
func (s *Store) CountTransport(ctx context.Context, name string) (TransportRows, error) {
	var r TransportRows
	for _, table := range append(slices.Clone(lastingTransportTables), prunedTransportTables...) {
		var n int64
		if err := s.queryRow(ctx, `SELECT count(*) FROM `+table+` WHERE transport = ?`, name).Scan(&n); err != nil {
			return TransportRows{}, unavailable(err)
		}
		r.add(table, n)
	}
	return r, nil
}

// DropTransport deletes every row under transport name, in one
// transaction, and returns what it deleted. It is for a name no transport
// of the config has: a running gateway's transport would lose its queue.
func (s *Store) DropTransport(ctx context.Context, name string) (TransportRows, error) {
	var r TransportRows
	err := s.tx(ctx, func(tx *sqlTx) error {
		r = TransportRows{}
		for _, table := range append(slices.Clone(lastingTransportTables), prunedTransportTables...) {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE transport = ?`, name)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			r.add(table, n)
		}
		return nil
	})
	if err != nil {
		return TransportRows{}, err
	}
	return r, nil
}

// add counts n rows of table.
func (r *TransportRows) add(table string, n int64) {
	switch table {
	case "outbox":
		r.Jobs += n
	case "to_xmpp":
		r.ToXMPP += n
	case "links":
		r.Links += n
	default:
		r.Other += n
	}
}
