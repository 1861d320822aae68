package telegramuser

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"

	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// A contact's name and picture come from the asking user's own account
// only: another account's names (its user's own, for its contacts, or
// private groups' titles) are never shown to anyone else.
func TestNamesAreTheAskersOwn(t *testing.T) {
	tr := &Transport{accounts: map[string]*account{}}
	bob := &account{t: tr, user: "bob@example.test"}
	bob.self.Store(1)
	bob.peers.addUser(&tg.User{ID: 777, FirstName: "Secret", LastName: "Contact", Photo: &tg.UserProfilePhoto{PhotoID: 1}})
	bob.peers.addChat(&tg.Chat{ID: 4242, Title: "Bob's private group"})
	bob.peers.addUser(&tg.User{ID: 888, FirstName: "Dana", Photo: &tg.UserProfilePhoto{PhotoID: 2}})
	tr.accounts["bob@example.test"] = bob
	alice := &account{t: tr, user: "alice@example.test"}
	alice.self.Store(2)
	alice.peers.addUser(&tg.User{ID: 777, FirstName: "Carol"})
	tr.accounts["alice@example.test"] = alice

	ctx := context.Background()
	for _, tc := range []struct {
		user   string
		remote transports.Addr
		want   string
	}{
		{"bob@example.test", "777", "Secret Contact"},
		{"bob@example.test", "-4242", "Bob's private group"},
		{"alice@example.test", "777", "Carol"},
		{"alice@example.test", "-4242", ""},
		{"mallory@example.test", "777", ""},
		{"mallory@example.test", "-4242", ""},
	} {
		got, err := tr.ContactName(ctx, tc.user, tc.remote)
		if err != nil || got != tc.want {
			t.Errorf("ContactName(%s, %s) = %q, %v; want %q", tc.user, tc.remote, got, err, tc.want)
		}
	}
	// Only bob's account knows 888, and has its picture; 777 alice's
	// knows with none. Neither alice nor mallory (who has no account) gets
	// a request made through bob's (which has no connection here, so one
	// would fail).
	for _, tc := range []struct {
		user   string
		remote transports.Addr
	}{{"mallory@example.test", "888"}, {"alice@example.test", "888"}, {"mallory@example.test", "777"}, {"alice@example.test", "777"}} {
		data, _, err := tr.Avatar(ctx, tc.user, tc.remote)
		if err != nil || data != nil {
			t.Errorf("Avatar(%s, %s) = %d bytes, %v; want none", tc.user, tc.remote, len(data), err)
		}
	}
}

// Telegram gives an account its contacts under the names its user saved
// for them. A group's room is shared by every gateway user in the group
// (its nicks, occupants and history): a member is never shown there under
// one account's name for them, but under their username, else their id
// (as a user whose account does not know a contact gets its address).
// A one-to-one chat, which only the account's user sees, keeps the name.
func TestGroupSenderNameNotFromAddressBook(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sink := &transporttest.Sink{}
	a := scriptedAccount(t, ctx, sink, func(bin.Encoder) bin.Encoder { return nil })
	const chatID = 31
	chat := &tg.Chat{ID: chatID, Title: "Team"}
	// Carol, as Alice's account sees her: saved as "Mom ❤" in Alice's phone.
	carol := &tg.User{ID: 4343, AccessHash: 5, Contact: true, FirstName: "Mom ❤"}
	// Dave, also a contact, with a username; Erin, not a contact: her own name.
	dave := &tg.User{ID: 4344, AccessHash: 6, Contact: true, FirstName: "Boss", Username: "dave_k"}
	erin := &tg.User{ID: 4345, AccessHash: 7, FirstName: "Erin", LastName: "Lee"}
	now := int(time.Now().Unix())
	msgs := []tg.MessageClass{
		&tg.Message{ID: 9, PeerID: &tg.PeerChat{ChatID: chatID}, FromID: &tg.PeerUser{UserID: carol.ID}, Date: now, Message: "hello team"},
		&tg.Message{ID: 10, PeerID: &tg.PeerChat{ChatID: chatID}, FromID: &tg.PeerUser{UserID: dave.ID}, Date: now, Message: "from dave"},
		&tg.Message{ID: 11, PeerID: &tg.PeerChat{ChatID: chatID}, FromID: &tg.PeerUser{UserID: erin.ID}, Date: now, Message: "from erin"},
		&tg.Message{ID: 12, PeerID: &tg.PeerUser{UserID: carol.ID}, FromID: &tg.PeerUser{UserID: carol.ID}, Date: now, Message: "just to you"},
	}
	if err := a.handle(ctx, msgs, nil, []tg.UserClass{carol, dave, erin}, []tg.ChatClass{chat}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ body, sender string }{{"hello team", "4343"}, {"from dave", "dave_k"}, {"from erin", "Erin Lee"}} {
		in, ok := relayed(sink, c.body)
		if !ok {
			t.Fatalf("%q not relayed", c.body)
		}
		if in.Sender != c.sender || in.Name != "Team" {
			t.Errorf("%q: sender %q in %q; want %q in \"Team\" (never the account's name for a contact)", c.body, in.Sender, in.Name, c.sender)
		}
	}
	if in, ok := relayed(sink, "just to you"); !ok || in.Name != "Mom ❤" {
		t.Errorf("a contact's one-to-one message is named %q; want the account's own name for them", in.Name)
	}
}
