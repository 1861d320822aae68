package mapping

import (
	"context"
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
