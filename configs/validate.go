package configs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gopkg.in/yaml.v3"
	"mellium.im/xmpp/jid"

	"xmppgw/transports"
)

// Defaults.
const (
	defaultStoreDriver = "sqlite"
	defaultStorePath   = "data/xmppgw.db"
	defaultLogLevel    = "info"
	defaultLogFormat   = "text"
)

// validate checks the decoded config, fills in defaults and normalises
// values, and decodes each transport's settings.
func (p *parser) validate(c *Config, raw []transportFile) {
	if p.require("xmpp.server", c.XMPP.Server) {
		p.hostPort("xmpp.server", c.XMPP.Server, false)
	}
	p.validateStore(&c.Store)
	p.validateHTTP(&c.HTTP)
	p.validateAccess(&c.Access)
	if !p.hasProblem("access.allow") {
		p.allow = c.Access.index
	}
	p.validateAdmins(c.Admins, c.Allowed)
	p.validateLog(&c.Log)
	p.validateAlerts(c.Alerts)
	p.validateMedia(&c.Media)
	c.Transports = p.validateTransports(raw)
	c.ContactLines = p.validateContacts(c.Contacts)
}

// validateStore checks the store's driver and its location: a file for
// sqlite (default data/xmppgw.db), a dsn for postgres. The dsn is never
// quoted in a problem: it may hold a password.
func (p *parser) validateStore(s *Store) {
	if s.Driver == "" {
		s.Driver = defaultStoreDriver
	}
	switch s.Driver {
	case "sqlite":
		if s.DSN != "" {
			p.invalid("store.dsn", `is for driver "postgres"; the sqlite store is a file, set with store.path`)
		}
		if s.Path == "" {
			s.Path = defaultStorePath
		}
	case "postgres":
		if s.Path != "" {
			p.invalid("store.path", `is for driver "sqlite"; the postgres store is set with store.dsn`)
		}
		if p.require("store.dsn", s.DSN) {
			msg := checkDSN(s.DSN)
			if msg == "" {
				msg = parseDSN(s.DSN)
			}
			if msg != "" {
				p.invalid("store.dsn", msg)
			}
		}
	default:
		p.invalid("store.driver", fmt.Sprintf(`unknown driver %s; use "sqlite" or "postgres"`, quoteShort(p.text("store.driver"))))
	}
}

// checkDSN returns what is wrong with the form of a PostgreSQL connection
// string, in words that do not quote it, or "". The driver reads the rest
// when the store is opened.
func checkDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if _, err := url.Parse(dsn); err != nil { // err quotes dsn: not shown
			return "is not a valid URL (postgres://user:password@host:5432/db; escape special characters in the password with %XX)"
		}
		return ""
	}
	if strings.Contains(dsn, "://") || !strings.Contains(dsn, "=") {
		return "must be a postgres:// URL or key=value pairs (host=... dbname=...)"
	}
	return ""
}

// parseDSN parses dsn as the store does when it opens it (pgx.ParseConfig,
// which connects to nothing), and returns why it does not parse, in words
// that do not quote its password, or "".
func parseDSN(dsn string) string {
	_, err := pgx.ParseConfig(dsn)
	if err == nil {
		return ""
	}
	reason := dsnReason(err)
	if reason == "" || !safeDSNReason(reason, dsn) {
		return "does not parse (pgx's reason would quote it; check its syntax and values)"
	}
	return "does not parse: " + reason
}

// dsnReason is pgx's error without the connection string it quotes:
// "cannot parse `DSN`: WHAT (WHY)" becomes "WHAT (WHY)", and a URL's parse
// error loses the URL. It returns "" for an error of another form.
func dsnReason(err error) string {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return ""
	}
	text := pe.Error()
	inner := pe.Unwrap()
	if inner != nil {
		text = strings.TrimSuffix(text, " ("+inner.Error()+")")
	}
	i := strings.LastIndex(text, "`: ")
	if !strings.HasPrefix(text, "cannot parse `") || i < 0 {
		return ""
	}
	what := text[i+len("`: "):]
	if inner == nil {
		return what
	}
	why := inner.Error()
	var ue *url.Error
	if errors.As(inner, &ue) {
		why = ue.Err.Error() // without ue.URL, the dsn
	}
	return what + " (" + why + ")"
}

// safeDSNReason reports whether reason quotes neither dsn nor anything
// that may be its password: a URL's user information, the value of a
// password key. A reason it is unsure of is not safe.
func safeDSNReason(reason, dsn string) bool {
	if strings.Contains(reason, dsn) {
		return false
	}
	var secrets []string
	if rest, ok := strings.CutPrefix(dsn, "postgres://"); ok || strings.HasPrefix(dsn, "postgresql://") {
		if !ok {
			rest = strings.TrimPrefix(dsn, "postgresql://")
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			secrets = append(secrets, userinfo)
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				secrets = append(secrets, pw)
				if u, err := url.PathUnescape(pw); err == nil {
					secrets = append(secrets, u)
				}
			}
		}
	}
	// Key=value pairs, and a URL's query, may set password= (or
	// sslpassword=): each value is a secret.
	for i := 0; ; {
		j := strings.Index(dsn[i:], "password")
		if j < 0 {
			break
		}
		i += j + len("password")
		v, ok := strings.CutPrefix(strings.TrimLeft(dsn[i:], " \t"), "=")
		if !ok {
			continue
		}
		v = strings.TrimLeft(v, " \t")
		if q, ok := strings.CutPrefix(v, "'"); ok {
			v, _, _ = strings.Cut(q, "'")
		} else if end := strings.IndexAny(v, " \t&"); end >= 0 {
			v = v[:end]
		}
		secrets = append(secrets, v)
		if u, err := url.QueryUnescape(v); err == nil {
			secrets = append(secrets, u)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(reason, s) {
			return false
		}
	}
	return true
}

func (p *parser) validateHTTP(h *HTTP) {
	if p.require("http.listen", h.Listen) {
		p.hostPort("http.listen", h.Listen, true)
	}
	if h.OpsListen != "" {
		p.hostPort("http.ops_listen", h.OpsListen, true)
		if !p.hasProblem("http.listen") && !p.hasProblem("http.ops_listen") && sameListener(h.Listen, h.OpsListen) {
			p.invalid("http.ops_listen", fmt.Sprintf("takes the port of http.listen (line %d) on the same address: "+
				"give it another port (an empty host, 0.0.0.0 and :: are every address; localhost is 127.0.0.1)", p.lineNear("http.listen")))
		}
	}
	if !p.require("http.public_url", h.PublicURL) {
		return
	}
	const key = "http.public_url"
	u, err := url.Parse(h.PublicURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.invalid(key, "must be an absolute http or https URL")
	case u.User != nil:
		p.invalid(key, "must not contain a user name or password")
	case u.RawQuery != "" || u.ForceQuery:
		p.invalid(key, "must not have a query")
	case u.Fragment != "":
		p.invalid(key, "must not have a fragment")
	default:
		h.PublicURL = strings.TrimRight(h.PublicURL, "/")
	}
}

// hostPort checks that value is host:port, the host an IP address or a
// DNS name. listen allows an empty host (all interfaces) and port 0 (any
// free port).
func (p *parser) hostPort(key, value string, listen bool) {
	host, port, err := net.SplitHostPort(value)
	if err != nil {
		p.invalid(key, "must be host:port")
		return
	}
	min := 1
	if listen {
		min = 0
	}
	_, ipErr := netip.ParseAddr(host)
	switch n, err := strconv.Atoi(port); {
	case err != nil || n < min || n > 65535:
		p.invalid(key, fmt.Sprintf("the port must be a number from %d to 65535", min))
	case host == "" && !listen:
		p.invalid(key, "the host is missing; write host:port")
	case strings.IndexFunc(host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		p.invalid(key, "the host has white space or control characters in it")
	case host != "" && ipErr != nil && !transports.HostName(host):
		p.invalid(key, "the host must be an IP address or a DNS name")
	}
}

// sameListener reports whether two valid listen addresses would take the
// same socket: the same port, not 0 (any free port), with a wildcard host
// on either side, or the same address or name on both, localhost being
// 127.0.0.1 (net.Listen binds one address of a name, its first IPv4 one:
// "localhost:P" beside "[::1]:P" binds). No name is looked up.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na != nb || na == 0 {
		return false
	}
	aa, anyA := listenHost(ha)
	ab, anyB := listenHost(hb)
	return anyA || anyB || slices.ContainsFunc(aa, func(s string) bool { return slices.Contains(ab, s) })
}

// listenHost is what a listen address's host names, without looking it
// up: every address (true), or addresses or a name, canonical.
func listenHost(host string) ([]string, bool) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return []string{a.String()}, a.IsUnspecified()
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case name == "":
		return nil, true
	case name == "localhost":
		return []string{"127.0.0.1"}, false
	}
	return []string{name}, false
}

func (p *parser) validateAccess(a *Access) {
	for i, s := range a.Allow {
		key := "access.allow[" + strconv.Itoa(i) + "]"
		j, err := jid.Parse(s)
		switch {
		case err != nil:
			p.invalid(key, fmt.Sprintf("%s is not a domain or a bare JID", quoteShort(p.text(key))))
		case j.Resourcepart() != "":
			p.invalid(key, "must be a domain or a bare JID, without a /resource")
		default:
			a.Allow[i] = j.String()
		}
	}
	a.index = newAllowIndex(a.Allow)
}

func (p *parser) validateLog(l *Log) {
	if l.Level == "" {
		l.Level = defaultLogLevel
	}
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		p.invalid("log.level", fmt.Sprintf("unknown level %s; use debug, info, warn or error", quoteShort(p.text("log.level"))))
	}
	if l.Format == "" {
		l.Format = defaultLogFormat
	}
	switch l.Format {
	case "text", "json":
	default:
		p.invalid("log.format", fmt.Sprintf("unknown format %s; use text or json", quoteShort(p.text("log.format"))))
	}
}

// MinSecretLen is the shortest component secret accepted: the XEP-0114
// handshake is a SHA-1 of the stream id and the secret, which anyone who
// sees it can test guesses against offline.
const MinSecretLen = 16

// DefaultRetryFor is how long temporary provider failures are retried
// unless a transport's retry_for says otherwise.
const DefaultRetryFor = 10 * time.Minute

var transportName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (p *parser) validateTransports(raw []transportFile) []Transport {
	if len(raw) == 0 {
		if n := p.pos["transports"].node; n == nil || n.Kind == yaml.SequenceNode || isNull(n) {
			p.add(p.lineNear("transports"), "transports", "at least one transport is required")
		}
		return nil
	}
	names := map[string]string{}   // name -> path of the transport using it
	domains := map[string]string{} // domain -> path of the transport using it
	claims := map[string]claimed{} // Claim.ID -> the first transport claiming it
	var out []Transport
	for i, rt := range raw {
		path := "transports[" + strconv.Itoa(i) + "]"
		pos := p.pos[path]
		if pos.node == nil || (pos.node.Kind != yaml.MappingNode && !isNull(pos.node)) {
			continue // reported as a type mismatch
		}
		t := rt.Transport
		t.Line = pos.line
		if p.require(path+".name", t.Name) {
			switch prev, dup := names[t.Name]; {
			case !transportName.MatchString(t.Name):
				p.invalid(path+".name", "must be lower-case letters, digits, '-' and '_', starting with a letter or digit")
			case dup:
				p.invalid(path+".name", fmt.Sprintf("same name as %s (line %d)", prev, p.pos[prev].line))
			default:
				names[t.Name] = path
			}
		}
		if p.require(path+".domain", t.Domain) {
			j, err := jid.Parse(t.Domain)
			switch {
			case err != nil:
				p.invalid(path+".domain", fmt.Sprintf("%s is not a valid domain", quoteShort(p.text(path+".domain"))))
			case j.Localpart() != "" || j.Resourcepart() != "":
				p.invalid(path+".domain", `must be a domain only, without "@" or "/"`)
			default:
				t.Domain = j.String()
				if prev, dup := domains[t.Domain]; dup {
					p.invalid(path+".domain", fmt.Sprintf("same domain as %s (line %d)", prev, p.pos[prev].line))
				} else {
					domains[t.Domain] = path
				}
			}
		}
		if p.require(path+".secret", t.Secret) && utf8.RuneCountInString(t.Secret) < MinSecretLen {
			p.invalid(path+".secret", fmt.Sprintf("is too short: at least %d characters (e.g. openssl rand -hex 16)", MinSecretLen))
		}
		switch {
		case !p.present(path + ".retry_for"):
			t.RetryFor = DefaultRetryFor
		case t.RetryFor < time.Second || t.RetryFor > 7*24*time.Hour:
			p.invalid(path+".retry_for", "must be between 1s and 168h (leave it out for the default, 10m)")
		}
		if p.require(path+".type", t.Type) {
			if typ, ok := transports.Lookup(t.Type); ok {
				before := len(p.probs)
				t.Settings = p.settings(typ, rt.Settings, path+".settings")
				if len(p.probs) == before {
					p.claim(claims, t, path)
				}
			} else {
				p.invalid(path+".type", unknownType(p.text(path+".type")))
			}
		}
		out = append(out, t)
	}
	return out
}

// claimed is a transports.Claim with the transport that made it.
type claimed struct {
	transports.Claim
	transport string // its name, or its path if it has none
}

// claim checks the claims of t's settings (see transports.Claims) against
// those of the transports before it, recorded in claims, and records them.
// A problem names the earlier transport and never quotes the ID.
func (p *parser) claim(claims map[string]claimed, t Transport, path string) {
	c, ok := t.Settings.(transports.Claims)
	if !ok {
		return
	}
	name := t.Name
	if name == "" {
		name = path
	}
	for _, cl := range c.Claims() {
		prev, dup := claims[cl.ID]
		switch {
		case !dup:
			claims[cl.ID] = claimed{cl, name}
		case prev.transport != name: // within one transport, Validate checks
			key := path + ".settings." + cl.Key
			shown := cl.Shown
			if shown == "" {
				shown = quoteShort(p.text(key))
			}
			p.addForeign(p.lineNear(key), key, fmt.Sprintf("%s is already %s on transport %s", shown, prev.Use, prev.transport))
		}
	}
}

// unknownType explains that no transport type is called text.
func unknownType(text string) string {
	known := transports.Names()
	if len(known) == 0 {
		return unknown("type", text, nil) + "; no transport types are built in"
	}
	return unknown("type", text, known) + "; known types: " + strings.Join(known, ", ")
}
