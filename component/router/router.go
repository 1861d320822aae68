package router

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"xmppgw/component/stanza"
	"xmppgw/internal/quietlog"
)

// Router dispatches stanzas to the most specific matching route.
type Router struct {
	routes []Route // most specific first
	added  []Route // as added, for disco
	log    *slog.Logger
	quiet  *slog.Logger // what any XMPP user can make it log
	// Refused, if set, is called for every stanza answered with an error.
	Refused func(condition string)
}

// New returns a router of routes.
func New(log *slog.Logger, routes ...Route) *Router {
	r := &Router{log: log, quiet: quietlog.New(log)}
	r.Add(routes...)
	return r
}

// Add adds routes.
func (r *Router) Add(routes ...Route) {
	r.added = append(r.added, routes...)
	r.routes = append(r.routes, routes...)
	// Most specific first; the order of adding breaks ties.
	slices.SortStableFunc(r.routes, func(a, b Route) int { return b.specificity() - a.specificity() })
}

// Pass, returned by a handler, hands the stanza on to the next route that
// matches it, as if the handler's own did not: for a route whose handler
// takes only some of what it matches (the server's stanzas, say).
var Pass = errors.New("router: passed on")

// Dispatch hands s to its handler. A stanza no route handles is answered
// as RFC 6120 says: an IQ request with service-unavailable, a message
// with feature-not-implemented unless it is an error or a headline;
// presence is ignored. A handler's error answers s; nothing ends the
// stream.
func (r *Router) Dispatch(ctx context.Context, w Writer, s *Stanza) {
	for i := range r.routes {
		if route := &r.routes[i]; route.matches(s) {
			if err := route.Handler.HandleStanza(ctx, w, s); err != Pass {
				r.answer(w, s, err)
				return
			}
		}
	}
	switch {
	case s.Kind == IQ && (s.Type == "get" || s.Type == "set"):
		r.Refuse(w, s, stanza.NewError("cancel", "service-unavailable", ""))
	case s.Kind == Message && s.Type != "error" && s.Type != "headline":
		r.Refuse(w, s, stanza.NewError("cancel", "feature-not-implemented", "only chat and normal messages are relayed"))
	}
}

// answer answers s with a handler's error, if any, and logs it.
func (r *Router) answer(w Writer, s *Stanza, err error) {
	if err == nil {
		return
	}
	r.Refuse(w, s, ErrorFor(err))
	if IsBadRequest(err) {
		r.quiet.Warn("stanza with a bad value refused", "from", s.From.String(), "stanza_id", s.ID, "err", err)
	} else if _, ok := err.(*stanza.Error); !ok {
		r.log.Error("stanza handler failed", "from", s.From.String(), "stanza_id", s.ID, "err", err)
	}
}

// ErrorFor is the stanza error that answers a handler's error.
func ErrorFor(err error) *stanza.Error {
	if e, ok := err.(*stanza.Error); ok {
		return e
	}
	if IsBadRequest(err) {
		return stanza.NewError("modify", "bad-request", "a value in this stanza is not valid")
	}
	return stanza.NewError("wait", "internal-server-error", "")
}

// Refuse answers s with e, from the address s was sent to, unless s may
// not be answered (Answerable).
func (r *Router) Refuse(w Writer, s *Stanza, e *stanza.Error) {
	if !Answerable(s.Kind, s.Type) {
		return
	}
	if r.Refused != nil {
		r.Refused(e.Condition.XMLName.Local)
	}
	w.Encode(Refusal(s, e))
}

// Answerable reports whether a stanza of kind k and type typ may be
// answered with an error: never an error (to avoid loops), an IQ result
// (RFC 6120 8.2.3) or a headline (RFC 6121 5.2.2).
func Answerable(k Kind, typ string) bool {
	switch {
	case typ == "error":
		return false
	case k == IQ:
		return typ != "result"
	case k == Message:
		return typ != "headline"
	}
	return true
}

// Refusal is the error stanza that answers s with e.
func Refusal(s *Stanza, e *stanza.Error) any {
	from, to := s.To.String(), s.From.String()
	switch s.Kind {
	case Message:
		return stanza.Message{Type: "error", ID: s.ID, From: from, To: to, Error: e}
	case Presence:
		return stanza.Presence{Type: "error", ID: s.ID, From: from, To: to, Error: e}
	}
	return stanza.IQ{Type: "error", ID: s.ID, From: from, To: to, Error: e}
}

// Result answers the IQ s with a result carrying payload (nil for none).
func Result(w Writer, s *Stanza, payload any) {
	w.Encode(stanza.IQ{Type: "result", ID: s.ID, From: s.To.String(), To: s.From.String(), Payload: payload})
}

// Features returns the disco features the routes provide on target,
// sorted, each once.
func (r *Router) Features(target Target) []string {
	var out []string
	for _, route := range r.added {
		for _, f := range route.Features {
			if f.Targets&target != 0 && !slices.Contains(out, f.Var) {
				out = append(out, f.Var)
			}
		}
	}
	slices.Sort(out)
	return out
}
