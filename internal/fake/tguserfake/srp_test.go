package tguserfake

import (
	"testing"

	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"
)

// TestSRPAgainstGotd checks the server side against gotd's client side.
func TestSRPAgainstGotd(t *testing.T) {
	t.Parallel()
	acc := newSRPAccount("hunter2")
	algo := &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
		Salt1: acc.salt1, Salt2: acc.salt2, G: srpG, P: pad256(srpP),
	}
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"hunter2", true}, {"hunter3", false}} {
		acc.challenge()
		in, err := auth.PasswordHash([]byte(tc.password), acc.id, acc.gb, randBytes(256), algo)
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.verify(in.A, in.M1); (err == nil) != tc.ok {
			t.Fatalf("%q: verify = %v", tc.password, err)
		}
	}
	if err := acc.verify([]byte{1}, make([]byte, 32)); err == nil {
		t.Fatal("A = 1 accepted")
	}
}
