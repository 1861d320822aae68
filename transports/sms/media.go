package sms

import (
	"context"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"xmppgw/transports"
)

// Limits on relayed media. Twilio accepts MMS of up to 5 MB; the cap leaves
// room for other Twilio-compatible providers.
const (
	maxMedia     = 20 << 20
	maxMediaURLs = 10 // Twilio's limit of MediaUrl per message, both ways
)

// How many media GETs the transport serves at once (and at most
// transports.MediaPerURL of one URL); past them, a GET waits for a slot
// (transports.MediaSlots), then is answered 503. Each inbound one calls
// Twilio's API with the account's credentials: enough for one MMS's media
// opened at once, and another's. Each of a user's attachments is fetched
// from the user's server when Twilio sends an MMS: enough for four MMS's
// attachments fetched at once.
const (
	inMediaAtOnce  = 16
	outMediaAtOnce = 4 * maxMediaURLs
)

// mediaExt is the preferred file extension of common MMS types; others get
// the first one mime knows.
var mediaExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/amr": ".amr", "video/mp4": ".mp4",
	"video/3gpp": ".3gp", "text/vcard": ".vcf", "text/x-vcard": ".vcf", "application/pdf": ".pdf",
	"text/html": ".html",
}

func extFor(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if e, ok := mediaExt[mt]; ok {
		return e
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// outboundTTL caps how long a URL of a user's attachment, handed to Twilio,
// is served: Twilio fetches it when it sends the message.
const outboundTTL = 24 * time.Hour

// signedPath returns "<sig>/<expiry>/" + rest for a media URL whose path
// elements are elems (kind first: "in" or "out", which keeps the two
// apart), valid for ttl (the transport's media TTL if 0).
func (t *Transport) signedPath(ttl time.Duration, rest string, elems ...string) string {
	return t.signer.Sign(ttl, elems...) + "/" + rest
}

// twilioMediaURL reports whether raw is a URL of the configured API (its
// scheme and host, under its path): the only place inbound media are
// fetched from, with the account's credentials.
func (t *Transport) twilioMediaURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, t.apiBase.Scheme) && strings.EqualFold(u.Host, t.apiBase.Host) &&
		strings.HasPrefix(u.Path, strings.TrimRight(t.apiBase.Path, "/")+"/")
}

func mediaKey(sid string, n int) string { return "media/" + sid + "/" + strconv.Itoa(n) }

// inboundMedia keeps the Twilio URLs of an inbound MMS's media and returns
// the gateway URLs that serve them, and how many media it left out: those
// without a URL, or outside the API's host (never fetched with the
// account's credentials), past the tenth, or all when the gateway serves no
// media. A NumMedia that is no number is read from the MediaUrlN present.
func (t *Transport) inboundMedia(ctx context.Context, sid string, form url.Values) (urls []string, dropped int, err error) {
	n, perr := strconv.Atoi(strings.TrimSpace(form.Get("NumMedia")))
	if perr != nil || n < 0 {
		n = 0
		for form.Has("MediaUrl" + strconv.Itoa(n)) {
			n++
		}
	}
	if n > maxMediaURLs {
		dropped, n = n-maxMediaURLs, maxMediaURLs
	}
	for i := range n {
		src := form.Get("MediaUrl" + strconv.Itoa(i))
		ctype := form.Get("MediaContentType" + strconv.Itoa(i))
		switch {
		case src == "":
			dropped++
			continue
		case !t.twilioMediaURL(src):
			t.log.Warn("sms: inbound media URL is not on the API host; dropped", "provider_id", sid, "index", i)
			dropped++
			continue
		case t.mediaURL == "":
			t.log.Warn("sms: no media URL configured; inbound media dropped", "provider_id", sid)
			dropped++
			continue
		}
		val := ctype + "\n" + src
		if t.state != nil {
			// Kept as long as the URL below is good.
			if err := t.state.SetUntil(ctx, mediaKey(sid, i), val, t.now().Add(t.signer.TTL()+time.Minute)); err != nil {
				return nil, 0, err
			}
		} else {
			t.memMedia.Store(mediaKey(sid, i), val)
		}
		file := strconv.Itoa(i) + extFor(ctype)
		urls = append(urls, t.mediaURL+"/"+t.signedPath(0, url.PathEscape(sid)+"/"+file, "in", sid, file))
	}
	return urls, dropped, nil
}

// outboundMedia returns the URLs to give Twilio for out's media: public ones
// as they are; others through the gateway (see Media), if the fetch policy
// allows their address. A refused URL fails the whole message, for good,
// with the generic text alone; nothing is sent to Twilio.
func (t *Transport) outboundMedia(ctx context.Context, out transports.Outbound) ([]string, *transports.Error) {
	if len(out.Media) > maxMediaURLs {
		return nil, &transports.Error{Kind: transports.KindRejected, Provider: provider,
			Message: "an MMS carries at most " + strconv.Itoa(maxMediaURLs) + " attachments"}
	}
	urls := make([]string, 0, len(out.Media))
	for _, u := range out.Media {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, &transports.Error{Kind: transports.KindRejected, Provider: provider,
				Message: "an attachment's URL is not an http or https URL"}
		}
		if t.isPublic(ctx, u) {
			urls = append(urls, u)
			continue
		}
		// Served through the gateway: only from an address the policy
		// allows, now and (checked again on connecting) when Twilio asks.
		if err := t.policy.Check(ctx, u); err != nil {
			if errors.Is(err, transports.ErrNotAllowed) {
				t.log.Warn("sms: attachment refused: its address is not allowed", "host", pu.Host, "err", err)
				return nil, transports.AttachmentNotAllowed(provider)
			}
			t.log.Warn("sms: attachment's host cannot be looked up", "host", pu.Host, "err", err)
			return nil, &transports.Error{Kind: transports.KindUnavailable, Provider: provider,
				Message: "an attachment's address could not be looked up"}
		}
		if t.mediaURL == "" {
			return nil, &transports.Error{Kind: transports.KindRejected, Provider: provider,
				Message: "an attachment is not on a public server and the gateway serves no media"}
		}
		urls = append(urls, t.mediaURL+"/out/"+t.signedPath(outboundTTL, base64.RawURLEncoding.EncodeToString([]byte(u)), "out", u))
	}
	return urls, nil
}

// Media implements transports.MediaServer:
//
//   - GET /<sig>/<expiry>/<MessageSid>/<N><ext> fetches inbound medium N of
//     an MMS from Twilio with the account's credentials and streams it;
//   - GET /out/<sig>/<expiry>/<base64url(URL)> fetches an outbound
//     attachment from the user's (non-public) server on demand, for Twilio
//     to pick up, under the fetch policy.
//
// The signature covers the expiry and the whole path; a bad or expired one
// is 404. At most inMediaAtOnce and outMediaAtOnce of each are served at
// once, transports.MediaPerURL of one URL (past them, a GET waits for a
// slot, then gets 503). Nothing is stored. Files are served as transports.ServeMedia
// does: labelled by their bytes or the provider's type, only passive
// images, audio and video inline.
func (t *Transport) Media() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !transports.MediaRequest(w, r, "sms") {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), transports.MediaWriteTimeout) // the client may read slowly
		defer cancel()
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) == 4 && parts[0] == "out" {
			t.serveOutbound(ctx, w, r, parts[1], parts[2], parts[3])
			return
		}
		if len(parts) != 4 {
			http.NotFound(w, r)
			return
		}
		sig, exp, sid, file := parts[0], parts[1], parts[2], parts[3]
		num := strings.TrimSuffix(file, path.Ext(file))
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || strconv.Itoa(n) != num || !t.signer.Verify(sig, exp, "in", sid, file) {
			http.NotFound(w, r)
			return
		}
		key := sid + "/" + file
		if !t.inLoad.Acquire(ctx, inMediaAtOnce, key) {
			transports.MediaBusy(w, "sms media: too many files are being fetched; try again in a moment")
			return
		}
		defer t.inLoad.Release(key)
		var val string
		if t.state != nil {
			if val, err = t.state.Get(ctx, mediaKey(sid, n)); err != nil {
				t.log.Warn("sms media: lookup failed", "provider_id", sid, "error", err)
				http.Error(w, "sms media: try again later", http.StatusServiceUnavailable)
				return
			}
		} else if v, ok := t.memMedia.Load(mediaKey(sid, n)); ok {
			val = v.(string)
		}
		ctype, src, _ := strings.Cut(val, "\n")
		if src == "" || !t.twilioMediaURL(src) {
			http.NotFound(w, r)
			return
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		// Sent to the API host only, not on a redirect to another host
		// (Twilio redirects to its CDN with a signed URL): see relay.
		req.SetBasicAuth(t.settings.AccountSID, t.settings.AuthToken)
		t.relay(w, r, req, file, ctype, t.httpTransport, "provider_id", sid)
	})
}

// serveOutbound answers /out/<sig>/<expiry>/<b64>.
func (t *Transport) serveOutbound(ctx context.Context, w http.ResponseWriter, r *http.Request, sig, exp, enc string) {
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !t.signer.Verify(sig, exp, "out", string(raw)) {
		http.NotFound(w, r)
		return
	}
	u, err := url.Parse(string(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		http.NotFound(w, r)
		return
	}
	if !t.outLoad.Acquire(ctx, outMediaAtOnce, enc) {
		transports.MediaBusy(w, "sms media: too many files are being fetched; try again in a moment")
		return
	}
	defer t.outLoad.Release(enc)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	t.relay(w, r, req, path.Base(u.Path), "", t.fetchTransport, "host", u.Host)
}

// relay fetches req and streams its body to w as transports.ServeMedia does,
// named name, with the origin's Content-Type and ctype as the declared
// types: 502 if the origin fails, 413 if it is larger than maxMedia; a
// transfer cut short is aborted (see transports.AbortMedia).
func (t *Transport) relay(w http.ResponseWriter, r *http.Request, req *http.Request, name, ctype string, rt http.RoundTripper, logArgs ...any) {
	c := &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return errors.New("redirect to a non-http URL")
		}
		// net/http keeps Authorization for another port of the same host:
		// the credentials go to the API's own host and port only.
		if !strings.EqualFold(req.URL.Host, via[0].URL.Host) || req.URL.Scheme != via[0].URL.Scheme {
			req.Header.Del("Authorization")
		}
		return nil
	}}
	resp, err := c.Do(req)
	if err != nil {
		if errors.Is(err, transports.ErrNotAllowed) {
			t.log.Warn("sms media: refused: the address is not allowed", append(logArgs, "error", t.redact(errText(err)))...)
		} else {
			t.log.Warn("sms media: fetch failed", append(logArgs, "error", t.redact(errText(err)))...)
		}
		http.Error(w, "sms media: the file cannot be fetched", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.log.Warn("sms media: fetch failed", append(logArgs, "status", resp.StatusCode)...)
		http.Error(w, "sms media: the file cannot be fetched", http.StatusBadGateway)
		return
	}
	err = transports.ServeMedia(w, r, transports.MediaFile{Body: resp.Body, Size: resp.ContentLength, Name: name,
		Declared: []string{resp.Header.Get("Content-Type"), ctype}, Limit: maxMedia})
	switch {
	case errors.Is(err, transports.ErrMediaTooLarge):
		t.log.Warn("sms media: file too large", logArgs...)
	case err != nil:
		t.log.Warn("sms media: relay failed", append(logArgs, "error", t.redact(errText(err)))...)
	}
	transports.AbortMedia(err)
}

// errText is err's text without the URL of a *url.Error, which may carry
// a signed query.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
