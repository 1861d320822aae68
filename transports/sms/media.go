package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
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
	mediaTimeout = 60 * time.Second
)

// mediaExt is the preferred file extension of common MMS types; others get
// the first one mime knows.
var mediaExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/amr": ".amr", "video/mp4": ".mp4",
	"video/3gpp": ".3gp", "text/vcard": ".vcf", "text/x-vcard": ".vcf", "application/pdf": ".pdf",
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

// sign makes a media URL unguessable: only URLs the gateway handed out are
// served. kind keeps inbound and outbound signatures apart.
func (t *Transport) sign(kind, s string) string {
	m := hmac.New(sha256.New, t.mediaKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
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
// account's credentials), or all when the gateway serves no media.
func (t *Transport) inboundMedia(ctx context.Context, sid string, form url.Values) (urls []string, dropped int, err error) {
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	n = min(max(n, 0), maxMediaURLs)
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
			if err := t.state.Set(ctx, mediaKey(sid, i), val); err != nil {
				return nil, 0, err
			}
		} else {
			t.memMedia.Store(mediaKey(sid, i), val)
		}
		esc := url.PathEscape(sid)
		urls = append(urls, t.mediaURL+"/"+t.sign("in", esc+"/"+strconv.Itoa(i))+"/"+esc+"/"+strconv.Itoa(i)+extFor(ctype))
	}
	return urls, dropped, nil
}

// outboundMedia returns the URLs to give Twilio for out's media: public ones
// as they are, others through the gateway (see Media).
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
		if t.mediaURL == "" {
			return nil, &transports.Error{Kind: transports.KindRejected, Provider: provider,
				Message: "an attachment is not on a public server and the gateway serves no media"}
		}
		urls = append(urls, t.mediaURL+"/out/"+t.sign("out", u)+"/"+base64.RawURLEncoding.EncodeToString([]byte(u)))
	}
	return urls, nil
}

// Media implements transports.MediaServer:
//
//   - GET /<sig>/<MessageSid>/<N><ext> fetches inbound medium N of an MMS
//     from Twilio with the account's credentials and streams it;
//   - GET /out/<sig>/<base64url(URL)> fetches an outbound attachment from
//     the user's (non-public) server on demand, for Twilio to pick up.
//
// Nothing is stored; a bad signature is 404.
func (t *Transport) Media() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "sms media: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), mediaTimeout)
		defer cancel()
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if len(parts) == 3 && parts[0] == "out" {
			t.serveOutbound(ctx, w, r, parts[1], parts[2])
			return
		}
		if len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		sig, sid, file := parts[0], parts[1], parts[2]
		num := strings.TrimSuffix(file, path.Ext(file))
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || strconv.Itoa(n) != num ||
			!hmac.Equal([]byte(sig), []byte(t.sign("in", url.PathEscape(sid)+"/"+num))) {
			http.NotFound(w, r)
			return
		}
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
		t.relay(w, r, req, ctype, t.httpTransport, "provider_id", sid)
	})
}

// serveOutbound answers /out/<sig>/<b64>.
func (t *Transport) serveOutbound(ctx context.Context, w http.ResponseWriter, r *http.Request, sig, enc string) {
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(sig), []byte(t.sign("out", string(raw)))) {
		http.NotFound(w, r)
		return
	}
	u, err := url.Parse(string(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		http.NotFound(w, r)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	t.relay(w, r, req, "", t.fetchTransport, "host", u.Host)
}

// relay fetches req and streams its body to w with its Content-Type (or
// ctype if the origin sends none): 502 if the origin fails, 413 if it is
// larger than maxMedia.
func (t *Transport) relay(w http.ResponseWriter, r *http.Request, req *http.Request, ctype string, rt http.RoundTripper, logArgs ...any) {
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
		t.log.Warn("sms media: fetch failed", append(logArgs, "error", t.redact(errText(err)))...)
		http.Error(w, "sms media: the file cannot be fetched", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.log.Warn("sms media: fetch failed", append(logArgs, "status", resp.StatusCode)...)
		http.Error(w, "sms media: the file cannot be fetched", http.StatusBadGateway)
		return
	}
	if resp.ContentLength > maxMedia {
		http.Error(w, "sms media: file too large", http.StatusRequestEntityTooLarge)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		ctype = ct
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	if resp.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if r.Method == http.MethodHead {
		return
	}
	// Without a Content-Length the cap cuts the stream short.
	if n, _ := io.Copy(w, io.LimitReader(resp.Body, maxMedia)); n == maxMedia {
		if m, _ := resp.Body.Read(make([]byte, 1)); m > 0 {
			t.log.Warn("sms media: file too large; cut short", logArgs...)
		}
	}
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
