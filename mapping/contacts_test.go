package mapping

import (
	"context"
	"fmt"
	"reflect"
	"testing"
)

// Imported names are kept by key; a second import replaces a name.
func TestContacts(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if err := s.Contacts().Import(ctx, map[string]string{"+15557654321": "Dana", "42@tg.example.test": "Ops"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Contacts().Import(ctx, map[string]string{"+15557654321": "Dana Scully"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Contacts().Names(ctx)
		if want := map[string]string{"+15557654321": "Dana Scully", "42@tg.example.test": "Ops"}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("names %v %v, want %v", got, err, want)
		}
	})
}

// An import bigger than a chunk stores every name, in chunks of every size
// Import writes, replacing the names of keys already imported.
func TestContactsImportInChunks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		if err := s.Contacts().Import(ctx, map[string]string{"+15550000007": "old"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for i := range 2*importChunk + 277 { // chunks of 512, 512, 256, 16, 4 and 1
			want[fmt.Sprintf("+1555%07d", i)] = fmt.Sprintf("Contact %d", i)
		}
		if err := s.Contacts().Import(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Contacts().Names(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d names imported, want %d (+15550000007: %q)", len(got), len(want), got["+15550000007"])
		}
	})
}
