package mapping

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// A room keeps its last messages and the members who spoke, with the
// stanzas queued in the same transaction; a duplicate keeps nothing.
func TestRoomHistory(t *testing.T) {
	forEachDriver(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		s := open(t)
		for i := range 5 {
			sender := []string{"Bob", "Carol", "Bob", "Ann", "Bob"}[i]
			e := RoomEntry{Room: "-100", Sender: sender, StanzaID: fmt.Sprint("m", i), Body: fmt.Sprint("text ", i)}
			if i == 4 {
				e.OOB, e.Replaces = "https://x/y", "m3"
			}
			ids, dup, err := s.AcceptRoom(ctx, "tg", fmt.Sprint("in:", i), []RoomEntry{e}, 3, []byte("<m/>"))
			if err != nil || dup || len(ids) != 1 {
				t.Fatalf("%d: %v %v %v", i, ids, dup, err)
			}
		}
		if _, dup, err := s.AcceptRoom(ctx, "tg", "in:4", []RoomEntry{{Room: "-100", Sender: "Zed", StanzaID: "dup"}}, 3); err != nil || !dup {
			t.Fatalf("duplicate: %v %v", dup, err)
		}
		// Another room is apart.
		if _, _, err := s.AcceptRoom(ctx, "tg", "in:other", []RoomEntry{{Room: "-200", Sender: "Eve", StanzaID: "o"}}, 3); err != nil {
			t.Fatal(err)
		}
		h, err := s.RoomHistory(ctx, "tg", "-100", 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range h {
			ids = append(ids, e.StanzaID)
		}
		if !slices.Equal(ids, []string{"m2", "m3", "m4"}) || h[2].OOB != "https://x/y" || h[2].Replaces != "m3" || h[2].Sender != "Bob" || h[0].Created == 0 {
			t.Errorf("history %+v", h)
		}
		if h, _ := s.RoomHistory(ctx, "tg", "-100", 2); len(h) != 2 || h[0].StanzaID != "m3" {
			t.Errorf("last 2: %+v", h)
		}
		members, err := s.RoomMembers(ctx, "tg", "-100")
		if err != nil || !slices.Equal(members, []string{"Ann", "Bob", "Carol"}) {
			t.Errorf("members %q, %v", members, err)
		}
		if q, _ := s.Outgoing(ctx, "tg", 100); len(q) != 5 {
			t.Errorf("%d stanzas queued", len(q))
		}
	})
}
