package sms

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"

	"xmppgw/transports"
)

// maxNumberLen bounds the input ParseNumber looks at; real numbers, even
// formatted, are far shorter.
const maxNumberLen = 40

// ParseNumber validates a phone number and returns it in E.164 form. Numbers
// without a leading "+" are read as national numbers of region (an ISO 3166
// code such as "US"). Only digits, spaces and the punctuation "+-.()" are
// allowed, and "+" only first.
//
// A number is accepted when phonenumbers parses it and judges its length
// possible for its country (IsPossibleNumber, without the "local only"
// case). It deliberately does not use IsValidNumber: that rejects the
// fictional 555 numbers used in tests and demos (+15551234567) and lags behind
// newly allocated ranges. The provider has the final word on reachability.
func ParseNumber(s, region string) (transports.Addr, error) {
	e164, msg := parseNumber(s, region)
	if msg != "" {
		return "", errors.New("sms: " + msg)
	}
	return transports.Addr(e164), nil
}

// parseNumber returns s in E.164 form, or a description of what is wrong
// with it. The text has no package prefix so that settings problems can use
// it too.
func parseNumber(s, region string) (e164, problem string) {
	if msg := numberProblem(s, region); msg != "" {
		return "", msg
	}
	num, _ := phonenumbers.Parse(s, region) // cannot fail: checked above
	e164 = phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) > 16 { // E.164 allows 15 digits; phonenumbers allows more
		return "", badNumber(s, "too long")
	}
	// A few degenerate inputs (runs of zeros) do not survive a round trip
	// through phonenumbers; refuse them rather than return an unstable Addr.
	if again, err := phonenumbers.Parse(e164, ""); err != nil ||
		phonenumbers.Format(again, phonenumbers.E164) != e164 ||
		phonenumbers.IsPossibleNumberWithReason(again) != phonenumbers.IS_POSSIBLE {
		return "", badNumber(s, "")
	}
	return e164, ""
}

// numberProblem describes what is wrong with s as a phone number, or returns
// "" if it looks fine.
func numberProblem(s, region string) string {
	bad := func(why string) string { return badNumber(s, why) }
	if strings.TrimSpace(s) == "" {
		return "empty phone number"
	}
	if len(s) > maxNumberLen {
		return bad("too long")
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == strings.IndexFunc(s, notSpace):
		case strings.ContainsRune(" -.()", r):
		default:
			return bad(fmt.Sprintf("unexpected %q", r))
		}
	}
	if digits == 0 {
		return bad("no digits")
	}
	num, err := phonenumbers.Parse(s, region)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return bad("unknown country code")
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return bad("too short")
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return bad("too long")
	case err != nil:
		return bad("")
	}
	if num.GetExtension() != "" {
		return bad("extensions are not supported")
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.IS_POSSIBLE:
		return ""
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return bad("area code missing")
	case phonenumbers.TOO_SHORT:
		return bad("too short")
	case phonenumbers.TOO_LONG:
		return bad("too long")
	case phonenumbers.INVALID_COUNTRY_CODE:
		return bad("unknown country code")
	}
	return bad("")
}

// badNumber says that s is not a valid phone number, and why if known.
func badNumber(s, why string) string {
	if len(s) > maxNumberLen {
		s = s[:maxNumberLen] + "..."
	}
	if why == "" {
		return fmt.Sprintf("%q is not a valid phone number", s)
	}
	return fmt.Sprintf("%q is not a valid phone number (%s)", s, why)
}

func notSpace(r rune) bool { return r != ' ' }

// ParseAddr implements transports.Transport: a phone number or short code
// (see numberAddr), or the address of a sender that is no number
// (senderMark first, see parseSenderName): a sender id's is taken, an
// opaque sender's refused.
func (t *Transport) ParseAddr(s string) (transports.Addr, error) {
	if strings.HasPrefix(s, senderMark) {
		return parseSenderName(s)
	}
	return t.numberAddr(s)
}

// numberAddr reads a phone number with the configured default region
// (see ParseNumber). A string of 3 to 8 digits without "+" is a short
// code, kept as it is, as the webhook keeps an inbound From (senderAddr):
// a reply to 80888@sms... goes to the short code 80888, never to the
// national number 80888 of the default region (+4980888 with DE), someone
// else's. A national number of up to 8 digits must be written with its
// "+" and country code: one of 3 to 8 digits written with punctuation
// ("808-88") is refused, neither a short code nor read with the default
// region.
// Results are cached: parsing is costly, and the same numbers recur.
func (t *Transport) numberAddr(s string) (transports.Addr, error) {
	if isShortCode(s) {
		return transports.Addr(s), nil
	}
	if d := shortDigits(s); d >= 3 && d <= 8 {
		return "", fmt.Errorf("sms: %q is not a phone number: a short code is written as its digits alone, "+
			"a national number of up to 8 digits with its \"+\" and country code", s)
	}
	return t.numbers.parse(s, t.settings.DefaultRegion)
}

// shortDigits counts the digits of s, a number without "+" written with
// digits and the punctuation ParseNumber allows; it returns -1 for any
// other s.
func shortDigits(s string) int {
	if len(s) > maxNumberLen {
		return -1
	}
	d := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d++
		case strings.ContainsRune(" -.()", r):
		default:
			return -1
		}
	}
	return d
}

// isShortCode reports whether s is a short code: 3 to 8 digits, nothing
// else.
func isShortCode(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberCache remembers ParseNumber's results for recent inputs.
type numberCache struct {
	mu sync.Mutex
	m  map[string]parsed
}

type parsed struct {
	addr transports.Addr
	err  error
}

// maxCached bounds the cache; it is emptied when full (inputs are untrusted).
const maxCached = 8192

func (c *numberCache) parse(s, region string) (transports.Addr, error) {
	if len(s) > maxNumberLen {
		return ParseNumber(s, region) // refused at once; not kept, so no input makes the cache large
	}
	c.mu.Lock()
	if p, ok := c.m[s]; ok {
		c.mu.Unlock()
		return p.addr, p.err
	}
	c.mu.Unlock()
	addr, err := ParseNumber(s, region)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = make(map[string]parsed)
	}
	c.m[s] = parsed{addr, err}
	c.mu.Unlock()
	return addr, err
}
