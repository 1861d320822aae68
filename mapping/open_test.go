package mapping

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Open takes each driver's own location only, and its errors never quote a
// dsn's password.
func TestOpenArguments(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "gw.db")
	const secret = "s3cret-pw"
	tests := []struct {
		name, driver, path, dsn string
		unavailable             bool // the error wraps ErrUnavailable
	}{
		{"unknown driver", "mysql", path, "", false},
		{"sqlite with a dsn", DriverSQLite, path, "postgres://u:" + secret + "@127.0.0.1/db", false},
		{"postgres with a path", DriverPostgres, path, "postgres://u:" + secret + "@127.0.0.1/db", false},
		{"postgres without a dsn", DriverPostgres, "", "", false},
		{"postgres dsn that does not parse", DriverPostgres, "", "postgres://u:" + secret + "@127.0.0.1:notaport/db", false},
		{"postgres key=value dsn that does not parse", DriverPostgres, "", "host=127.0.0.1 password=" + secret + " port=x", false},
		{"postgres not answering", DriverPostgres, "", "postgres://u:" + secret + "@127.0.0.1:1/db?connect_timeout=2", true},
	}
	for _, tt := range tests {
		s, err := Open(ctx, tt.driver, tt.path, tt.dsn)
		if err == nil {
			s.Close()
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the password: %v", tt.name, err)
		}
		if errors.Is(err, ErrUnavailable) != tt.unavailable {
			t.Errorf("%s: errors.Is(%v, ErrUnavailable) = %v", tt.name, err, !tt.unavailable)
		}
	}
}
