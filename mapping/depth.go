package mapping

import (
	"context"
	"fmt"
)

// Depth counts transport's stored jobs not yet sent to the provider (out)
// and stanzas not yet confirmed written to XMPP (in).
func (s *Store) Depth(ctx context.Context, transport string) (out, in int64, err error) {
	if err := s.queryRow(ctx, `SELECT count(*) FROM outbox WHERE transport = ?`, transport).Scan(&out); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := s.queryRow(ctx, `SELECT count(*) FROM to_xmpp WHERE transport = ?`, transport).Scan(&in); err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return out, in, nil
}
