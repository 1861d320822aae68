package twiliofake

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// media is a file the fake serves at
// /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}.
type media struct {
	contentType string
	data        []byte
}

// AddMedia stores data as a medium of message sid and returns its URL, as
// Twilio puts it in MediaUrl{N} of an inbound webhook. It needs Start (the
// URL is on the fake's own address); with Handler served elsewhere, use
// SetBaseURL first.
func (f *Fake) AddMedia(sid, contentType string, data []byte) string {
	mediaSID := newSID("ME")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.media == nil {
		f.media = map[string]media{}
	}
	p := "/" + apiVersion + "/Accounts/" + f.accountSID + "/Messages/" + sid + "/Media/" + mediaSID
	f.media[p] = media{contentType: contentType, data: append([]byte(nil), data...)}
	return f.base + p
}

// SetBaseURL sets the base URL of the fake's API, for AddMedia, when
// Handler is served without Start.
func (f *Fake) SetBaseURL(base string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.base = strings.TrimRight(base, "/")
}

// MediaFetches returns how many media GETs the fake answered with 200.
func (f *Fake) MediaFetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mediaFetches
}

// serveMedia answers GET of a medium (after Basic auth); ok is false if the
// path is not a medium's.
func (f *Fake) serveMedia(w http.ResponseWriter, r *http.Request) (ok bool) {
	if !strings.Contains(r.URL.Path, "/Media/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	f.mu.Lock()
	m, found := f.media[r.URL.Path]
	if found {
		f.mediaFetches++
	}
	f.mu.Unlock()
	if !found {
		writeError(w, &APIError{Status: http.StatusNotFound, Code: 20404,
			Message: "The requested resource " + r.URL.Path + " was not found"})
		return true
	}
	w.Header().Set("Content-Type", m.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(m.data)
	}
	return true
}

// Medium is an attachment of an inbound MMS: a URL (usually from AddMedia)
// and its content type.
type Medium struct {
	URL, ContentType string
}

// InboundMMSForm returns the params Twilio posts for an incoming MMS:
// InboundForm's with NumMedia, MediaUrl{N} and MediaContentType{N}.
func (f *Fake) InboundMMSForm(sid, from, to, body string, media ...Medium) url.Values {
	form := f.InboundForm(sid, from, to, body)
	form.Set("NumMedia", strconv.Itoa(len(media)))
	for i, m := range media {
		form.Set("MediaUrl"+strconv.Itoa(i), m.URL)
		form.Set("MediaContentType"+strconv.Itoa(i), m.ContentType)
	}
	return form
}

// SendInboundMMS stores data as the one medium of a new message (see
// AddMedia) and posts that MMS to webhookURL. It returns the MessageSid and
// the medium's URL.
func (f *Fake) SendInboundMMS(ctx context.Context, webhookURL, from, to, body string, contentType string, data []byte) (sid string, mediaURL string, status int, err error) {
	sid = newSID("MM")
	mediaURL = f.AddMedia(sid, contentType, data)
	status, err = f.PostForm(ctx, webhookURL, f.InboundMMSForm(sid, from, to, body, Medium{mediaURL, contentType}))
	return sid, mediaURL, status, err
}
