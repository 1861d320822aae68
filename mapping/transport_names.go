package mapping

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
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

// OwnRowsSep separates a transport's name from the suffix of rows the
// gateway keeps for it under another name (the core's own state is under
// NAME+"#core"): such rows belong to NAME. Transport names never hold it.
const OwnRowsSep = "#"

// transportOf is the transport name that rows under name belong to: name
// up to OwnRowsSep. The empty name (the readiness probe's row) belongs to
// no transport.
func transportOf(name string) string {
	if i := strings.Index(name, OwnRowsSep); i >= 0 {
		return name[:i]
	}
	return name
}

// rawTransportNames returns every distinct value of the transport column
// of the lasting tables, in no order.
func (s *Store) rawTransportNames(ctx context.Context, query func(ctx context.Context, q string, args ...any) (*sql.Rows, error)) (map[string]bool, error) {
	seen := map[string]bool{}
	for _, table := range lastingTransportTables {
		rows, err := query(ctx, transportNamesQuery(table))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, err
			}
			seen[n] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// TransportNames returns, sorted, the transport names the store holds
// lasting rows under: queued messages, links, link codes, state, rooms.
// Names with only rows that Prune deletes in time are not listed. Rows
// under NAME+"#…" (see OwnRowsSep) count as NAME's; rows under the empty
// name, the gateway's own (the readiness probe's), as no transport's.
func (s *Store) TransportNames(ctx context.Context) ([]string, error) {
	raw, err := s.rawTransportNames(ctx, s.query)
	if err != nil {
		return nil, unavailable(err)
	}
	seen := map[string]bool{}
	for n := range raw {
		if t := transportOf(n); t != "" {
			seen[t] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// namesOf returns the names whose rows belong to transport name: name
// itself and the NAME+"#…" among raw.
func namesOf(name string, raw map[string]bool) []string {
	names := []string{name}
	for n := range raw {
		if n != name && transportOf(n) == name {
			names = append(names, n)
		}
	}
	slices.Sort(names[1:])
	return names
}

// CountTransport counts the rows under transport name, in every table,
// with those under NAME+"#…". The empty name, which is no transport's, is
// refused.
func (s *Store) CountTransport(ctx context.Context, name string) (TransportRows, error) {
	if err := checkTransportName(name); err != nil {
		return TransportRows{}, err
	}
	raw, err := s.rawTransportNames(ctx, s.query)
	if err != nil {
		return TransportRows{}, unavailable(err)
	}
	var r TransportRows
	for _, n := range namesOf(name, raw) {
		for _, table := range append(slices.Clone(lastingTransportTables), prunedTransportTables...) {
			var c int64
			if err := s.queryRow(ctx, `SELECT count(*) FROM `+table+` WHERE transport = ?`, n).Scan(&c); err != nil {
				return TransportRows{}, unavailable(err)
			}
			r.add(table, c)
		}
	}
	return r, nil
}

// DropTransport deletes every row under transport name, with those under
// NAME+"#…", in one transaction, and returns what it deleted. It is for a
// name no transport of the config has: a running gateway's transport
// would lose its queue. The empty name, which is no transport's, is
// refused.
func (s *Store) DropTransport(ctx context.Context, name string) (TransportRows, error) {
	if err := checkTransportName(name); err != nil {
		return TransportRows{}, err
	}
	var r TransportRows
	err := s.tx(ctx, func(tx *sqlTx) error {
		r = TransportRows{}
		raw, err := s.rawTransportNames(ctx, tx.QueryContext)
		if err != nil {
			return err
		}
		for _, n := range namesOf(name, raw) {
			for _, table := range append(slices.Clone(lastingTransportTables), prunedTransportTables...) {
				res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE transport = ?`, n)
				if err != nil {
					return err
				}
				c, err := res.RowsAffected()
				if err != nil {
					return err
				}
				r.add(table, c)
			}
		}
		return nil
	})
	if err != nil {
		return TransportRows{}, err
	}
	return r, nil
}

// checkTransportName refuses a name that is no transport's: empty, or
// with OwnRowsSep (rows under it are counted and dropped with their
// transport's).
func checkTransportName(name string) error {
	if name == "" || strings.Contains(name, OwnRowsSep) {
		return fmt.Errorf("mapping: %q is not a transport name (rows under the empty name are the gateway's own; those under NAME%s… go with NAME)", name, OwnRowsSep)
	}
	return nil
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
