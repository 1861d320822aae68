package adhoc

import (
	"context"
	"errors"
	"time"

	"mellium.im/xmpp/jid"

	"xmppgw/component/router"
	"xmppgw/component/stanza"
	"xmppgw/transports"
)

// The sign-in commands of a transport users sign in to (transports.Login):
// "login" asks the transport's questions in turn (phone number, code,
// password), one form per stage of one XEP-0050 session; "logout" ends the
// session (a user no longer allowed may still run it). The transport keeps the sign-in's state, by user.

// Nodes of the sign-in commands.
const (
	nodeLogin  = "login"
	nodeLogout = "logout"
)

// loginTimeout bounds one answer's round trip to the network.
const loginTimeout = 60 * time.Second

// loginCommands are offered before the others when the transport has
// sign-in.
func (m *Commands) loginCommands() []command {
	name := m.c.Identity().Name
	return []command{
		{node: nodeLogin, name: "Log in to " + name},
		{node: nodeLogout, name: "Log out of " + name, own: true, run: (*Commands).logout},
	}
}

// handleLogin runs a stage of the login command: the first question on
// execute, then each answer, until the transport says the user is in.
func (m *Commands) handleLogin(ctx context.Context, w router.Writer, s *router.Stanza, req request) error {
	user := s.From.Bare().String()
	if req.Form == nil {
		p := m.login.BeginLogin(ctx, user)
		router.Result(w, s, m.loginStage(newSessionID(), p, nil))
		return nil
	}
	if req.Form.Type == "cancel" {
		router.Result(w, s, response{Node: nodeLogin, SessionID: req.SessionID, Status: "canceled"})
		return nil
	}
	var field, value string
	for _, f := range req.Form.Fields {
		if f.Var == "phone" || f.Var == "code" || f.Var == "password" {
			field = f.Var
			if len(f.Values) > 0 {
				value = f.Values[0]
			}
		}
	}
	if field == "" {
		return stanza.NewError("modify", "bad-request", "the form answers none of the questions (phone, code, password)")
	}
	// The answer goes to the network: off the read loop.
	return m.c.Later(s.From, w, func(ctx context.Context, w router.Writer) {
		ctx, cancel := context.WithTimeout(ctx, loginTimeout)
		defer cancel()
		next, done, err := m.login.LoginAnswer(ctx, user, field, value)
		var le *transports.LoginError
		switch {
		case errors.As(err, &le) && next != nil:
			n := failed(le.Msg)
			router.Result(w, s, m.loginStage(req.SessionID, *next, &n))
		case err != nil:
			msg := err.Error()
			if le != nil {
				msg = le.Msg
			}
			router.Result(w, s, response{Node: nodeLogin, SessionID: req.SessionID, Status: "completed",
				Notes: []note{failed("The login failed: " + msg + ". Run the command again to retry.")}})
		case next != nil:
			router.Result(w, s, m.loginStage(req.SessionID, *next, nil))
		default:
			router.Result(w, s, response{Node: nodeLogin, SessionID: req.SessionID, Status: "completed",
				Notes: []note{info(done)}})
		}
	})
}

// loginStage is the response that asks p, with a note on the last answer.
func (m *Commands) loginStage(session string, p transports.Prompt, n *note) response {
	typ := "text-single"
	if p.Secret {
		typ = "text-private"
	}
	r := response{Node: nodeLogin, SessionID: session, Status: "executing",
		Actions: &actions{Execute: "complete", Complete: &struct{}{}},
		Form: &stanza.Form{Type: "form", Title: "Log in to " + m.c.Identity().Name,
			Fields: []stanza.FormField{{Var: p.Field, Type: typ, Label: p.Label, Required: &struct{}{}}}}}
	if n != nil {
		r.Notes = []note{*n}
	}
	return r
}

func (m *Commands) logout(ctx context.Context, from jid.JID, _ *stanza.Form) (note, error) {
	err := m.login.Logout(ctx, from.Bare().String())
	switch {
	case errors.Is(err, transports.ErrNotLoggedIn):
		return failed("You are not logged in to " + m.c.Identity().Name + "."), nil
	case err != nil:
		return failed("Logging out failed: " + err.Error()), nil
	}
	return info("You are logged out of " + m.c.Identity().Name + "; your session is deleted."), nil
}
