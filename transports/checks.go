package transports

import (
	"net/url"
	"strings"
)

// Helpers for transports' settings validation.

// APIURLProblem describes what is wrong with raw as a provider's API base
// URL, or returns "".
func APIURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "must be an absolute http or https URL"
	case u.User != nil:
		return "must not contain credentials"
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "must not have a query or fragment"
	}
	return ""
}

// SettleAPIURL gives *u, a setting's API base URL, its default def if it
// is empty and drops its trailing slashes; it returns what is wrong with
// it (APIURLProblem), or "".
func SettleAPIURL(u *string, def string) string {
	if *u == "" {
		*u = def
	}
	if msg := APIURLProblem(*u); msg != "" {
		return msg
	}
	*u = strings.TrimRight(*u, "/")
	return ""
}

// IsBareJID is a loose check that s looks like "user@domain": exactly one
// '@' with something on both sides, and no resource. (Transports do not
// import an XMPP library.)
func IsBareJID(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && strings.Count(s, "@") == 1 && !strings.ContainsAny(s, "/ \t\r\n")
}

// Redacted stands for a secret in printed settings: "" if it is unset.
func Redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}
