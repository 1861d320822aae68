package component

import (
	"strings"
	"unicode/utf8"
)

// maxQuote bounds a reply's quoted text carried to a network without
// replies (one SMS is 160 characters).
const maxQuote = 40

// parts is what a message from XMPP carries, beyond who it is for.
type parts struct {
	body     string   // the text, without fallbacks for features we map
	replyTo  string   // XEP-0461: the stanza id replied to
	quote    string   // the reply's quoted text, shortened
	media    []string // XEP-0066 URLs
	retracts string   // XEP-0424: the stanza id to delete
	reactTo  string   // XEP-0444: the stanza id reacted to
	reacts   []string // the sender's reactions to it (none: removed)
}

// messageParts reads the features of in that map to the foreign network.
// A reply's fallback quote is cut from the body and kept apart; an
// attachment's URL is not repeated as text when the body is only that URL.
func messageParts(in inStanza) parts {
	var p parts
	if in.Retract != nil {
		p.retracts = in.Retract.ID
		return p // the body is a fallback for clients without retraction
	}
	if in.ApplyTo != nil && in.ApplyTo.Retract != nil && in.ApplyTo.ID != "" {
		p.retracts = in.ApplyTo.ID // the older form (slixmpp 1.8)
		return p
	}
	if in.Reactions != nil {
		p.reactTo = in.Reactions.ID
		for _, r := range in.Reactions.Reactions {
			if r = strings.TrimSpace(r); r != "" {
				p.reacts = append(p.reacts, r)
			}
		}
		return p // a body would be a fallback
	}
	if in.Body != nil {
		p.body = *in.Body
	}
	if in.Reply != nil && in.Reply.ID != "" {
		p.replyTo = in.Reply.ID
		for _, f := range append(in.Fallbacks, in.OldFallbacks...) {
			if f.For != nsReply && f.For != "" {
				continue
			}
			if f.For == "" && len(f.Bodies) == 0 {
				continue // a whole-body fallback is for another feature
			}
			for _, r := range f.Bodies {
				quote, rest, ok := cut(p.body, r)
				if ok {
					p.quote, p.body = shortQuote(quote), rest
				}
			}
		}
	}
	for _, o := range in.OOB {
		if u := strings.TrimSpace(o.URL); u != "" {
			p.media = append(p.media, u)
		}
	}
	if len(p.media) == 1 && strings.TrimSpace(p.body) == p.media[0] {
		p.body = ""
	}
	return p
}

// cut splits body at the fallback range r, counted in code points (XEP-0426):
// the text in the range, and the body without it.
func cut(body string, r fallbackRange) (in, rest string, ok bool) {
	n := utf8.RuneCountInString(body)
	start, end := 0, n
	if r.Start != nil {
		start = *r.Start
	}
	if r.End != nil {
		end = *r.End
	}
	if start < 0 || end > n || start > end {
		return "", body, false
	}
	runes := []rune(body)
	return string(runes[start:end]), string(runes[:start]) + string(runes[end:]), true
}

// shortQuote turns a fallback quote ("> text\n") into one short line.
func shortQuote(q string) string {
	var lines []string
	for _, l := range strings.Split(q, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), ">"))
		if l != "" {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, " ")
	if utf8.RuneCountInString(s) > maxQuote {
		s = string([]rune(s)[:maxQuote-1]) + "…"
	}
	return s
}
