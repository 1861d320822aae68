package telegramuser

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/transports"
)

// The sign-in questions.
var (
	promptPhone    = transports.Prompt{Field: "phone", Label: "Your Telegram phone number, with its country code (+15551234567)"}
	promptCode     = transports.Prompt{Field: "code", Label: "The code Telegram sent you (in the Telegram app, or by SMS)"}
	promptPassword = transports.Prompt{Field: "password", Label: "Your Telegram two-step verification password", Secret: true}
)

// loginTimeout ends a sign-in left unanswered.
const loginTimeout = 10 * time.Minute

// logoutAttempt bounds one attempt to end a deleted session at Telegram.
const logoutAttempt = time.Minute

// answer is one answer to a sign-in question, passed to the account's
// goroutine, which replies on reply.
type answer struct {
	field, value string
	reply        chan loginReply
}

type loginReply struct {
	next *transports.Prompt
	done string
	err  error
}

// BeginLogin implements transports.Login.
func (t *Transport) BeginLogin(ctx context.Context, user string) transports.Prompt {
	if a := t.account(user); a != nil && !a.resume.Load() && a.self.Load() == 0 {
		a.stop() // an unfinished sign-in: start over (a stored session resuming is kept)
	}
	return promptPhone
}

// LoginAnswer implements transports.Login.
func (t *Transport) LoginAnswer(ctx context.Context, user, field, value string) (*transports.Prompt, string, error) {
	if field != promptPassword.Field { // a password is taken as typed
		value = strings.TrimSpace(value)
	}
	a := t.account(user)
	if field == promptPhone.Field {
		if t.loggedIn(user, a) {
			return nil, "", &transports.LoginError{Msg: "you are logged in to Telegram already; log out first"}
		}
		if _, err := parsePhone(value); err != nil {
			return &promptPhone, "", err
		}
		var err error
		if a, err = t.start(user, false); err != nil {
			return nil, "", err
		}
	}
	if a == nil || a.resume.Load() {
		return nil, "", &transports.LoginError{Msg: "no sign-in is under way: start again"}
	}
	r := make(chan loginReply, 1)
	select {
	case a.answers <- answer{field: field, value: value, reply: r}:
	case <-a.cancel:
		return nil, "", a.ended()
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	select {
	case rep := <-r:
		return rep.next, rep.done, rep.err
	case <-a.done:
		select {
		case rep := <-r:
			return rep.next, rep.done, rep.err
		default:
			return nil, "", a.ended()
		}
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

// ended is the error of an answer to a sign-in that has ended.
func (a *account) ended() error {
	if why := a.failed.Load(); why != nil {
		return &transports.LoginError{Msg: "the sign-in failed (" + *why + "): start again"}
	}
	return &transports.LoginError{Msg: "the sign-in ended: start again"}
}

// loggedIn reports whether user is signed in or has a stored session
// (resuming, or restarting) not given up; a is user's account, if any.
func (t *Transport) loggedIn(user string, a *account) bool {
	if _, ok := t.Accounts()[user]; ok {
		return true
	}
	return a != nil && !a.gaveUp.Load() && (a.resume.Load() || a.self.Load() != 0)
}

// leaveWait bounds Logout's wait for a session whose auth.logOut was cut
// off to stop, if Telegram ended it.
const leaveWait = 5 * time.Second

// Logout implements transports.Login. A session that is up is ended at
// Telegram, then deleted (if Telegram does not answer, it keeps running:
// the user may try again). One that is not up (resuming, or restarting
// after a failure) is stopped and deleted at once, and ended at Telegram
// in the background once Telegram answers (see logOutLater).
func (t *Transport) Logout(ctx context.Context, user string) error {
	a := t.account(user)
	if !t.loggedIn(user, a) {
		// A stored session that did not open is deleted too.
		users, err := t.users(ctx)
		if err != nil {
			return err
		}
		if _, ok := users[user]; !ok {
			return transports.ErrNotLoggedIn
		}
	}
	if a != nil && a.up.Load() {
		a.setLeaving(true)
		_, err := a.api().AuthLogOut(ctx)
		if _, rpc := tgerr.As(err); err != nil && !rpc {
			// Telegram may end the session before its answer comes, and
			// the request is then cut off: wait for the session to stop.
			select {
			case <-a.cancel:
			case <-time.After(leaveWait):
			case <-ctx.Done():
			}
		}
		if err != nil && !tgerr.Is(err, "AUTH_KEY_UNREGISTERED") && !a.setLeaving(false) {
			return fmt.Errorf("Telegram did not end the session: %w", err)
		}
		// Until the session has stopped, its end is this logout's.
		defer a.setLeaving(false)
		if err := a.end(ctx); err != nil {
			return err
		}
		return a.forget(ctx)
	}
	if a == nil {
		a = &account{t: t, user: user}
	} else if err := a.end(ctx); err != nil {
		return err
	}
	data, _ := t.vault.get(ctx, keySession(user)) // one that does not open is of no use to end
	if err := a.forget(ctx); err != nil {
		return err
	}
	if data != nil {
		t.logOutLater(user, data)
	}
	return nil
}

// end stops the account's session and waits until it has stopped.
func (a *account) end(ctx context.Context) error {
	a.stop()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logOutLater ends a deleted session at Telegram (auth.logOut with its
// auth key, from data) in the background, trying again until Telegram
// answers or the gateway stops. If the gateway stops first, the auth key
// is gone from the store, but Telegram lists the session among the
// account's active sessions until it expires or the user terminates it in
// a Telegram app.
func (t *Transport) logOutLater(user string, data []byte) {
	t.spawn(func(ctx context.Context) {
		retry(ctx, func(ctx context.Context) error {
			st := &session.StorageMemory{}
			if err := st.StoreSession(ctx, data); err != nil {
				return nil
			}
			c := telegram.NewClient(t.s.APIID, t.s.APIHash, t.options(st, nil, nil))
			ctx, cancel := context.WithTimeout(ctx, logoutAttempt)
			defer cancel()
			err := c.Run(ctx, func(ctx context.Context) error {
				_, err := c.API().AuthLogOut(ctx)
				if tgerr.Is(err, "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED") {
					return nil
				}
				return err
			})
			if err != nil {
				t.log.Warn("ending a deleted session at Telegram failed; retrying", "user", user, "err", err)
			}
			return err
		})
	})
}

// login asks the sign-in questions, answered through LoginAnswer, until
// the account is signed in.
func (a *account) login(ctx context.Context) (*tg.User, error) {
	var phone, hash string
	timeout := time.NewTimer(loginTimeout)
	defer timeout.Stop()
	for {
		var ans answer
		select {
		case ans = <-a.answers:
		case <-timeout.C:
			return nil, errors.New("sign-in abandoned")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		reply := func(next *transports.Prompt, err error) { ans.reply <- loginReply{next: next, err: err} }
		var res *tg.AuthAuthorization
		var err error
		switch ans.field {
		case promptPhone.Field:
			p, perr := parsePhone(ans.value)
			if perr != nil {
				reply(&promptPhone, perr)
				continue
			}
			sent, err := a.auth().SendCode(ctx, p, auth.SendCodeOptions{})
			if err != nil {
				reply(&promptPhone, loginError(err))
				continue
			}
			code, ok := sent.(*tg.AuthSentCode)
			if !ok {
				reply(&promptPhone, &transports.LoginError{Msg: "Telegram did not send a code; try again"})
				continue
			}
			phone, hash = p, code.PhoneCodeHash
			reply(&promptCode, nil)
			continue
		case promptCode.Field:
			if phone == "" {
				reply(&promptPhone, &transports.LoginError{Msg: "give your phone number first"})
				continue
			}
			res, err = a.auth().SignIn(ctx, phone, ans.value, hash)
			if errors.Is(err, auth.ErrPasswordAuthNeeded) {
				reply(&promptPassword, nil)
				continue
			}
		case promptPassword.Field:
			res, err = a.auth().Password(ctx, ans.value)
			if errors.Is(err, auth.ErrPasswordInvalid) {
				reply(&promptPassword, &transports.LoginError{Msg: "the password is wrong"})
				continue
			}
		default:
			reply(nil, &transports.LoginError{Msg: "unknown field " + ans.field})
			continue
		}
		if err != nil {
			prompt := &promptCode
			if ans.field == promptPassword.Field {
				prompt = &promptPassword
			}
			reply(prompt, loginError(err))
			continue
		}
		u, ok := res.User.(*tg.User)
		if !ok {
			reply(nil, errors.New("Telegram answered the sign-in without a user"))
			return nil, errors.New("sign-in without a user")
		}
		a.final = ans.reply
		return u, nil
	}
}

// loginDone answers the last sign-in question, once the account is
// recorded as signed in.
func (a *account) loginDone(self *tg.User) {
	if a.final == nil {
		return
	}
	name := strings.TrimSpace(self.FirstName + " " + self.LastName)
	a.final <- loginReply{done: fmt.Sprintf("You are logged in to Telegram as %s (+%s). Your chats are being added to your contacts.", name, self.Phone)}
	a.final = nil
}

// loginError words a Telegram error for the user.
func loginError(err error) error {
	if d, ok := asWait(err); ok {
		return &transports.LoginError{Msg: fmt.Sprintf("Telegram asks to wait %d s before trying again", int(d.Seconds()))}
	}
	switch {
	case tgerr.Is(err, "PHONE_CODE_INVALID", "PHONE_CODE_EXPIRED", "PHONE_CODE_EMPTY"):
		return &transports.LoginError{Msg: "the code is wrong or expired"}
	case tgerr.Is(err, "PHONE_NUMBER_INVALID", "PHONE_NUMBER_BANNED", "PHONE_NUMBER_UNOCCUPIED"):
		return &transports.LoginError{Msg: "Telegram has no account with this phone number"}
	case tgerr.Is(err, "PASSWORD_HASH_INVALID"):
		return &transports.LoginError{Msg: "the password is wrong"}
	}
	return &transports.LoginError{Msg: "Telegram refused: " + err.Error()}
}

// parsePhone checks a phone number as typed: digits with an optional
// leading +, spaces and dashes ignored. It returns the digits.
func parsePhone(s string) (string, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-':
		default:
			return "", &transports.LoginError{Msg: fmt.Sprintf("%q is not a phone number: use digits with the country code, like +15551234567", s)}
		}
	}
	if n := b.Len(); n < 7 || n > 15 {
		return "", &transports.LoginError{Msg: fmt.Sprintf("%q is not a phone number: use digits with the country code, like +15551234567", s)}
	}
	return "+" + b.String(), nil
}
