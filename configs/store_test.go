package configs

import (
	"reflect"
	"strings"
	"testing"
)

func TestStoreDrivers(t *testing.T) {
	const secret = "pw-secret-9"
	env := map[string]string{
		"SECRET": "component-secret-1",
		"TOKEN":  "token-secret-2",
		"PG_DSN": "postgres://gw:" + secret + "@db.example.com:5432/xmppgw",
		"PG_BAD": "postgres://gw:" + secret + "@db.example.com:port/xmppgw",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name  string
		store string // the store: section, prepended to base
		want  Store
		probs []string
	}{
		{name: "default", store: "",
			want: Store{Driver: "sqlite", Path: "data/xmppgw.db"}},
		{name: "sqlite with a path", store: "store:\n  driver: sqlite\n  path: /var/lib/gw.db\n",
			want: Store{Driver: "sqlite", Path: "/var/lib/gw.db"}},
		{name: "postgres URL", store: "store:\n  driver: postgres\n  dsn: ${PG_DSN}\n",
			want: Store{Driver: "postgres", DSN: env["PG_DSN"]}},
		{name: "postgres key=value", store: "store:\n  driver: postgres\n  dsn: host=db user=gw password=" + secret + " dbname=gw\n",
			want: Store{Driver: "postgres", DSN: "host=db user=gw password=" + secret + " dbname=gw"}},
		{name: "postgres without a dsn", store: "store:\n  driver: postgres\n",
			probs: []string{`gw.yaml:1: store.dsn: is required`}},
		{name: "postgres with an empty dsn", store: "store:\n  driver: postgres\n  dsn: \"\"\n",
			probs: []string{`gw.yaml:3: store.dsn: must not be empty`}},
		{name: "postgres with a path", store: "store:\n  driver: postgres\n  path: gw.db\n  dsn: ${PG_DSN}\n",
			probs: []string{`gw.yaml:3: store.path: is for driver "sqlite"; the postgres store is set with store.dsn`}},
		{name: "sqlite with a dsn", store: "store:\n  dsn: ${PG_DSN}\n",
			probs: []string{`gw.yaml:2: store.dsn: is for driver "postgres"; the sqlite store is a file, set with store.path`}},
		{name: "dsn not a URL", store: "store:\n  driver: postgres\n  dsn: ${PG_BAD}\n",
			probs: []string{`gw.yaml:3: store.dsn: is not a valid URL (postgres://user:password@host:5432/db; escape special characters in the password with %XX)`}},
		{name: "dsn neither form", store: "store:\n  driver: postgres\n  dsn: " + secret + "\n",
			probs: []string{`gw.yaml:3: store.dsn: must be a postgres:// URL or key=value pairs (host=... dbname=...)`}},
		{name: "dsn of another scheme", store: "store:\n  driver: postgres\n  dsn: mysql://u:" + secret + "@h/db\n",
			probs: []string{`gw.yaml:3: store.dsn: must be a postgres:// URL or key=value pairs (host=... dbname=...)`}},
		{name: "dsn the driver refuses", store: "store:\n  driver: postgres\n  dsn: postgres://gw:" + secret + "@db.example.com:5432/xmppgw?sslmode=bogus\n",
			probs: []string{`gw.yaml:3: store.dsn: does not parse: failed to configure TLS (sslmode is invalid)`}},
		{name: "key=value dsn the driver refuses", store: "store:\n  driver: postgres\n  dsn: host=db connect_timeout=abc password=" + secret + "\n",
			probs: []string{`gw.yaml:3: store.dsn: does not parse: invalid connect_timeout (strconv.ParseInt: parsing "abc": invalid syntax)`}},
		{name: "dsn whose refusal would quote the password", store: "store:\n  driver: postgres\n  dsn: host=db target_session_attrs=" + secret + " password=" + secret + "\n",
			probs: []string{`gw.yaml:3: store.dsn: does not parse (pgx's reason would quote it; check its syntax and values)`}},
		{name: "unset variable", store: "store:\n  driver: postgres\n  dsn: ${NO_DSN}\n",
			probs: []string{`gw.yaml:3: store.dsn: environment variable NO_DSN is not set`}},
		{name: "unknown driver", store: "store:\n  driver: mysql\n  dsn: ${PG_DSN}\n",
			probs: []string{`gw.yaml:2: store.driver: unknown driver "mysql"; use "sqlite" or "postgres"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("gw.yaml", []byte(tt.store+base), lookup)
			probs := problemsOf(t, err)
			if strings.Contains(strings.Join(probs, "\n"), secret) {
				t.Errorf("a problem quotes the dsn's password: %q", probs)
			}
			if !reflect.DeepEqual(probs, tt.probs) {
				t.Fatalf("problems %q, want %q", probs, tt.probs)
			}
			if err == nil && c.Store != tt.want {
				t.Errorf("store %+v, want %+v", c.Store, tt.want)
			}
		})
	}
}
