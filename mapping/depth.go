package mapping

import (
	"context"
)

// The SQL of this file, with "?" placeholders that the dialect binds.
const (
	countOutbox = `SELECT count(*) FROM outbox WHERE transport = ?`
	countToXMPP = `SELECT count(*) FROM to_xmpp WHERE transport = ?`
)

// Depth counts transport's stored jobs not yet sent to the provider (out)
// and stanzas not yet confirmed written to XMPP (in).
func (s *Store) Depth(ctx context.Context, transport string) (out, in int64, err error) {
	if err := s.queryRow(ctx, countOutbox, transport).Scan(&out); err != nil {
		return 0, 0, unavailable(err)
	}
	if err := s.queryRow(ctx, countToXMPP, transport).Scan(&in); err != nil {
		return 0, 0, unavailable(err)
	}
	return out, in, nil
}
