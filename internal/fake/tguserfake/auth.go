package tguserfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// codeTTL is how long a login code stays valid.
const codeTTL = 5 * time.Minute

// loginCode is the code of the last auth.sendCode for a phone.
type loginCode struct {
	code, hash string
	expires    time.Time
}

// phoneKey is the digits of a phone number: how phones are matched.
func phoneKey(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LastCode is the login code of the last auth.sendCode for phone, "" if
// none. Codes are 5 random digits.
func (s *Server) LastCode(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastCodes[phoneKey(phone)]
}

// Authorized is how many auth keys are logged in as user.
func (s *Server) Authorized(user int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.keys {
		if k.user == user {
			n++
		}
	}
	return n
}

// keyState returns the state of the call's auth key, creating it.
// The caller holds s.mu.
func (c *call) keyState() *keyState {
	k := c.s.keys[c.key]
	if k == nil {
		k = &keyState{}
		c.s.keys[c.key] = k
	}
	return k
}

// authorize logs the call's auth key in as a. The caller holds s.mu.
func (c *call) authorize(a *account) *tg.AuthAuthorization {
	k := c.keyState()
	k.user, k.pending = a.ID, 0
	c.user = a.ID
	c.s.log.Info("tguserfake: authorized", "user", a.ID, "phone", a.Phone)
	return &tg.AuthAuthorization{User: c.s.renderUser(a.ID, a.ID)}
}

// authSendCode answers auth.sendCode with a new random 5-digit code.
func (s *Server) authSendCode(c *call) (bin.Encoder, error) {
	r, err := decode[tg.AuthSendCodeRequest](c)
	if err != nil {
		return nil, err
	}
	phone := phoneKey(r.PhoneNumber)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byPhone[phone]; !ok || phone == "" {
		return nil, tgerr.New(400, "PHONE_NUMBER_INVALID")
	}
	n, err := rand.Int(rand.Reader, big.NewInt(100000))
	if err != nil {
		return nil, err
	}
	lc := &loginCode{
		code:    fmt.Sprintf("%05d", n.Int64()),
		hash:    hex.EncodeToString(randBytes(9)),
		expires: time.Now().Add(codeTTL),
	}
	s.codes[phone] = lc
	s.lastCodes[phone] = lc.code
	s.log.Info("tguserfake: login code sent", "phone", "+"+phone, "code", lc.code)
	return &tg.AuthSentCode{
		Type:          &tg.AuthSentCodeTypeApp{Length: len(lc.code)},
		PhoneCodeHash: lc.hash,
		Timeout:       int(codeTTL.Seconds()),
	}, nil
}

// authSignIn answers auth.signIn: the code must match the last
// auth.sendCode for the phone (with its hash) and not be expired.
func (s *Server) authSignIn(c *call) (bin.Encoder, error) {
	r, err := decode[tg.AuthSignInRequest](c)
	if err != nil {
		return nil, err
	}
	phone := phoneKey(r.PhoneNumber)
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byPhone[phone]
	if !ok {
		return nil, tgerr.New(400, "PHONE_NUMBER_INVALID")
	}
	lc := s.codes[phone]
	if lc == nil || lc.hash != r.PhoneCodeHash || lc.code != r.PhoneCode || time.Now().After(lc.expires) {
		return nil, tgerr.New(400, "PHONE_CODE_INVALID")
	}
	delete(s.codes, phone)
	a := s.users[id]
	if a.srp != nil {
		c.keyState().pending = a.ID
		return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
	}
	return c.authorize(a), nil
}

// passwordUser is the account a password request is about: the one
// logged in, or the one that passed auth.signIn. The caller holds s.mu.
func (c *call) passwordUser() (*account, error) {
	k := c.s.keys[c.key]
	switch {
	case k != nil && k.user != 0:
		return c.s.users[k.user], nil
	case k != nil && k.pending != 0:
		return c.s.users[k.pending], nil
	}
	return nil, errUnauthorized
}

// accountGetPassword answers account.getPassword with a fresh SRP
// challenge when the account has a password.
func (s *Server) accountGetPassword(c *call) (bin.Encoder, error) {
	if _, err := decode[tg.AccountGetPasswordRequest](c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := c.passwordUser()
	if err != nil {
		return nil, err
	}
	p := &tg.AccountPassword{
		NewAlgo: &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
			Salt1: randBytes(8), Salt2: randBytes(16), G: srpG, P: pad256(srpP),
		},
		NewSecureAlgo: &tg.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000{Salt: randBytes(8)},
		SecureRandom:  randBytes(256),
	}
	if a.srp != nil {
		a.srp.challenge()
		p.HasPassword = true
		p.CurrentAlgo = &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
			Salt1: a.srp.salt1, Salt2: a.srp.salt2, G: srpG, P: pad256(srpP),
		}
		p.SRPB = a.srp.gb
		p.SRPID = a.srp.id
	}
	return p, nil
}

// authCheckPassword answers auth.checkPassword by verifying the SRP proof.
func (s *Server) authCheckPassword(c *call) (bin.Encoder, error) {
	r, err := decode[tg.AuthCheckPasswordRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := c.passwordUser()
	if err != nil {
		return nil, err
	}
	in, ok := r.Password.(*tg.InputCheckPasswordSRP)
	if !ok || a.srp == nil {
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
	if in.SRPID != a.srp.id || a.srp.b == nil {
		return nil, tgerr.New(400, "SRP_ID_INVALID")
	}
	if err := a.srp.verify(in.A, in.M1); err != nil {
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
	a.srp.b, a.srp.id = nil, 0 // one proof per challenge
	return c.authorize(a), nil
}

// authLogOut answers auth.logOut: the auth key is no longer logged in.
func (s *Server) authLogOut(c *call) (bin.Encoder, error) {
	if _, err := decode[tg.AuthLogOutRequest](c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := c.account(); err != nil {
		return nil, err
	}
	delete(s.keys, c.key)
	s.log.Info("tguserfake: logged out", "user", c.user)
	return &tg.AuthLoggedOut{}, nil
}
