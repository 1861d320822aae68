package tguserfake

import (
	"errors"
	"regexp"
	"testing"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"
)

func TestLoginWithCode(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := s.AddUser(ann)
	if a.ID != 1000001 || a.AccessHash == 0 || a.Phone != "+15550001111" {
		t.Fatalf("AddUser: %+v", a)
	}
	c, _ := startClient(t, s, &session.StorageMemory{})

	if _, err := c.Self(c.ctx); err == nil {
		t.Fatal("self before login succeeded")
	} else {
		wantRPCError(t, err, 401, "AUTH_KEY_UNREGISTERED")
	}
	flow := auth.NewFlow(auth.CodeOnly(a.Phone, codeFrom(s, a.Phone)), auth.SendCodeOptions{})
	if err := flow.Run(c.ctx, c.Auth()); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9]{5}$`).MatchString(s.LastCode(a.Phone)) {
		t.Fatalf("LastCode = %q", s.LastCode(a.Phone))
	}
	self, err := c.Self(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if self.ID != a.ID || self.AccessHash != a.AccessHash || !self.Self || self.FirstName != "Ann" ||
		self.LastName != "Lee" || self.Username != "ann" || self.Phone != "15550001111" {
		t.Fatalf("self = %+v", self)
	}
	if got := s.Authorized(a.ID); got != 1 {
		t.Fatalf("Authorized = %d", got)
	}

	if _, err := c.API().AuthLogOut(c.ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.Authorized(a.ID); got != 0 {
		t.Fatalf("Authorized after logout = %d", got)
	}
	_, err = c.Self(c.ctx)
	wantRPCError(t, err, 401, "AUTH_KEY_UNREGISTERED")
}

func TestLoginWithPassword(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	u := ann
	u.Password = "correct horse"
	a := s.AddUser(u)
	c, _ := startClient(t, s, &session.StorageMemory{})
	self := login(t, s, c, a.Phone, "correct horse")
	if self.ID != a.ID {
		t.Fatalf("self = %d, want %d", self.ID, a.ID)
	}
	if got := s.Authorized(a.ID); got != 1 {
		t.Fatalf("Authorized = %d", got)
	}
}

func TestWrongCode(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := s.AddUser(ann)
	c, _ := startClient(t, s, &session.StorageMemory{})

	_, err := c.Auth().SendCode(c.ctx, "+15559999999", auth.SendCodeOptions{})
	wantRPCError(t, err, 400, "PHONE_NUMBER_INVALID")

	sent, err := c.Auth().SendCode(c.ctx, a.Phone, auth.SendCodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := sent.(*tg.AuthSentCode)
	if typ, ok := sc.Type.(*tg.AuthSentCodeTypeApp); !ok || typ.Length != 5 || sc.PhoneCodeHash == "" {
		t.Fatalf("sent code = %+v", sc)
	}
	code := s.LastCode(a.Phone)
	wrong := []byte(code)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	_, err = c.Auth().SignIn(c.ctx, a.Phone, string(wrong), sc.PhoneCodeHash)
	wantRPCError(t, err, 400, "PHONE_CODE_INVALID")
	_, err = c.Auth().SignIn(c.ctx, a.Phone, code, "otherhash")
	wantRPCError(t, err, 400, "PHONE_CODE_INVALID")
	if got := s.Authorized(a.ID); got != 0 {
		t.Fatalf("Authorized = %d", got)
	}

	// The right code still works, once.
	if _, err := c.Auth().SignIn(c.ctx, a.Phone, code, sc.PhoneCodeHash); err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth().SignIn(c.ctx, a.Phone, code, sc.PhoneCodeHash)
	wantRPCError(t, err, 400, "PHONE_CODE_INVALID")
	if got := s.Authorized(a.ID); got != 1 {
		t.Fatalf("Authorized = %d", got)
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	u := ann
	u.Password = "s3cret"
	a := s.AddUser(u)
	c, _ := startClient(t, s, &session.StorageMemory{})

	sent, err := c.Auth().SendCode(c.ctx, a.Phone, auth.SendCodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth().SignIn(c.ctx, a.Phone, s.LastCode(a.Phone), sent.(*tg.AuthSentCode).PhoneCodeHash)
	if !errors.Is(err, auth.ErrPasswordAuthNeeded) {
		t.Fatalf("sign in: %v", err)
	}
	// Not logged in until the password is checked.
	_, err = c.Self(c.ctx)
	wantRPCError(t, err, 401, "AUTH_KEY_UNREGISTERED")

	p, err := c.API().AccountGetPassword(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	algo, ok := p.CurrentAlgo.(*tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow)
	if !p.HasPassword || !ok || algo.G != 3 || len(algo.P) != 256 || len(p.SRPB) != 256 || p.SRPID == 0 {
		t.Fatalf("password = %+v", p)
	}
	in, err := auth.PasswordHash([]byte("wrong"), p.SRPID, p.SRPB, p.SecureRandom, p.CurrentAlgo)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.API().AuthCheckPassword(c.ctx, in)
	wantRPCError(t, err, 400, "PASSWORD_HASH_INVALID")
	if got := s.Authorized(a.ID); got != 0 {
		t.Fatalf("Authorized = %d", got)
	}

	if _, err := c.Auth().Password(c.ctx, "s3cret"); err != nil {
		t.Fatal(err)
	}
	self, err := c.Self(c.ctx)
	if err != nil || self.ID != a.ID {
		t.Fatalf("self = %v, %v", self, err)
	}
}

func TestSessionRestored(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := s.AddUser(ann)
	storage := &session.StorageMemory{}

	c1, stop1 := startClient(t, s, storage)
	login(t, s, c1, a.Phone, "")
	stop1()

	c2, _ := startClient(t, s, storage)
	self, err := c2.Self(c2.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if self.ID != a.ID {
		t.Fatalf("self = %d, want %d", self.ID, a.ID)
	}
	if got := s.Authorized(a.ID); got != 1 {
		t.Fatalf("Authorized = %d", got)
	}
}
