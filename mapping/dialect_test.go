package mapping

import (
	"context"
	"reflect"
	"testing"
)

func TestNumberPlaceholders(t *testing.T) {
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c > ? LIMIT ?`, `SELECT a FROM t WHERE b = $1 AND c > $2 LIMIT $3`},
		{`SELECT '?', "a?b", ? -- what?` + "\n" + `FROM t WHERE x = ?`, `SELECT '?', "a?b", $1 -- what?` + "\n" + `FROM t WHERE x = $2`},
		{`SELECT 'it''s?', ?`, `SELECT 'it''s?', $1`},
		{`SELECT 'open?`, `SELECT 'open?`},
	}
	for _, tt := range tests {
		if got := numberPlaceholders(tt.in); got != tt.want {
			t.Errorf("numberPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidText(t *testing.T) {
	args := []any{"ok", "a\x00b", []byte("\x00"), "bad\xffutf8", 7}
	got := validText(args)
	want := []any{"ok", "a\uFFFDb", []byte("\x00"), "bad\uFFFDutf8", 7}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("validText = %q, want %q", got, want)
	}
	if args[1] != "a\x00b" {
		t.Error("validText modified its argument")
	}
	clean := []any{"a", 1}
	if got := validText(clean); &got[0] != &clean[0] {
		t.Error("validText copied arguments that needed no change")
	}
}

// Text that PostgreSQL cannot hold (NUL, invalid UTF-8) is stored there
// with U+FFFD instead of failing the write; SQLite keeps it as it is.
func TestUnstorableText(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		value := "a\x00b\xff"
		if err := s.KV("tg").Set(ctx, "k", value); err != nil {
			t.Fatal(err)
		}
		want := value
		if s.Driver() == DriverPostgres {
			want = "a\uFFFDb\uFFFD"
		}
		if got, err := s.KV("tg").Get(ctx, "k"); got != want || err != nil {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
		// A dedupe key with NUL still dedupes.
		if dup, err := s.ToXMPP().Accept(ctx, "tg", "in:\x00", []byte("<m/>")); dup || err != nil {
			t.Errorf("first accept: dup %v, %v", dup, err)
		}
		if dup, err := s.ToXMPP().Accept(ctx, "tg", "in:\x00", []byte("<m/>")); !dup || err != nil {
			t.Errorf("second accept: dup %v, %v", dup, err)
		}
	})
}
