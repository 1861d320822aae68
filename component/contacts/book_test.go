package contacts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
)

type store map[string]string

func (s store) Names(context.Context) (map[string]string, error) {
	if s == nil {
		return nil, errors.New("down")
	}
	return s, nil
}

// A name is found by the contact's JID, then by its number; the config's
// win; a failed load keeps what was read.
func TestBook(t *testing.T) {
	b := New(map[string]string{"+15557654321": "Dana Scully", "42@tg.example.test": "Ops room"},
		store{"+15557654321": "Dana (imported)", "+15550002222": "Fox Mulder", "+15550003333@sms.example.test": "Walter"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"+15557654321@sms.example.test":  "Dana Scully (+15557654321)",
		"+15550002222@sms2.example.test": "Fox Mulder (+15550002222)",
		"+15550003333@sms.example.test":  "Walter (+15550003333)",
		"+15550003333@sms2.example.test": "+15550003333",
		"42@tg.example.test":             "Ops room (42@tg.example.test)",
		"43@tg.example.test":             "43@tg.example.test",
		"bob@example.test":               "bob@example.test",
	}
	for contact, want := range tests {
		if got := b.Label(contact); got != want {
			t.Errorf("Label(%q) = %q, want %q", contact, got, want)
		}
	}
	b.store = store(nil)
	if err := b.Load(context.Background()); err == nil {
		t.Error("a failed load reported no error")
	}
	if got := b.Name("+15550002222@sms.example.test"); got != "Fox Mulder" {
		t.Errorf("after a failed load: %q", got)
	}
	var none *Book
	if none.Name("x@y") != "" || none.Label("+1555@y") != "+1555" {
		t.Error("a nil Book names someone")
	}
}
