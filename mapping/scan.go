package mapping

import (
	"context"
	"database/sql"
	"fmt"
)

// queryFunc runs a query: Store.query, or a transaction's QueryContext.
type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// queryAll runs q and scans each row into a T with scan. It returns the
// driver's error as it is: the caller says what failed.
func queryAll[T any](ctx context.Context, query queryFunc, scan func(*sql.Rows, *T) error, q string, args ...any) ([]T, error) {
	rows, err := query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanValue scans a row of one column.
func scanValue[T any](r *sql.Rows, v *T) error { return r.Scan(v) }

// unavailable wraps a failure to read the store with ErrUnavailable.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
