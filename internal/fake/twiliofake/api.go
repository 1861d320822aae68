package twiliofake

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

const (
	apiVersion   = "2010-04-01"
	maxBodyChars = 1600
	maxFormBytes = 1 << 20
	maxMedia     = 10 // MediaUrl per message
)

// mediaURLsOK reports whether every MediaUrl is an absolute http(s) URL.
func mediaURLsOK(urls []string) bool {
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return false
		}
	}
	return true
}

// e164 is how strictly the fake checks 'To'.
var e164 = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)

// Handler returns the fake's REST API.
func (f *Fake) Handler() http.Handler { return http.HandlerFunc(f.serveAPI) }

func (f *Fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(f.accountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(f.authToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, &APIError{Status: http.StatusUnauthorized, Code: 20003, Message: "Authenticate"})
		return
	}
	if f.serveMedia(w, r) {
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/"+apiVersion+"/Accounts/"+f.accountSID+"/Messages.json" {
		f.mu.Lock()
		f.nLists++
		status := f.listAs
		f.mu.Unlock()
		if status != 0 {
			if status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", http.MethodPost)
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		f.list(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/"+apiVersion+"/Accounts/"+f.accountSID+"/Messages.json" {
		writeError(w, &APIError{Status: http.StatusNotFound, Code: 20404,
			Message: fmt.Sprintf("The requested resource %s was not found", r.URL.Path)})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeError(w, &APIError{Status: http.StatusBadRequest, Code: 20001, Message: "Malformed request body"})
		return
	}
	form := r.PostForm
	m := Message{
		From:           form.Get("From"),
		To:             form.Get("To"),
		Body:           form.Get("Body"),
		StatusCallback: form.Get("StatusCallback"),
		MediaURLs:      form["MediaUrl"],
	}
	if e := validate(m); e != nil {
		writeError(w, e)
		return
	}

	f.mu.Lock()
	if !f.allow(m.From) {
		f.mu.Unlock()
		writeError(w, &APIError{Status: http.StatusTooManyRequests, Code: 20429, Message: "Too Many Requests"})
		return
	}
	hook := f.onSend
	f.mu.Unlock()
	m.SID = newSID("SM")
	m.Created = f.now().UTC().Truncate(time.Second)
	if hook != nil {
		if e := hook(m); e != nil {
			writeError(w, e)
			return
		}
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()

	writeJSON(w, http.StatusCreated, f.resource(m))
}

// list answers GET Messages.json: the messages created through the fake,
// newest first, filtered by To, From and DateSent (YYYY-MM-DD, with > or <
// for on-or-after and on-or-before), in one page of at most PageSize
// (default 50, at most 1000).
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, &APIError{http.StatusBadRequest, 20001, "Invalid PageSize"})
			return
		}
		size = n
	}
	dateFilter := func(param string, keep func(day, ref time.Time) bool) (func(time.Time) bool, bool) {
		v := q.Get(param)
		if v == "" {
			return func(time.Time) bool { return true }, true
		}
		ref, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, false
		}
		return func(t time.Time) bool {
			y, m, d := t.UTC().Date()
			return keep(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), ref)
		}, true
	}
	on, ok1 := dateFilter("DateSent", func(day, ref time.Time) bool { return day.Equal(ref) })
	after, ok2 := dateFilter("DateSent>", func(day, ref time.Time) bool { return !day.Before(ref) })
	before, ok3 := dateFilter("DateSent<", func(day, ref time.Time) bool { return !day.After(ref) })
	if !ok1 || !ok2 || !ok3 {
		writeError(w, &APIError{http.StatusBadRequest, 20001, "Invalid DateSent"})
		return
	}
	var out []resource
	for _, m := range f.Messages() {
		if (q.Get("To") == "" || m.To == q.Get("To")) && (q.Get("From") == "" || m.From == q.Get("From")) &&
			on(m.Created) && after(m.Created) && before(m.Created) {
			out = append(out, f.resource(m))
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > size {
		out = out[:size]
	}
	uri := "/" + apiVersion + "/Accounts/" + f.accountSID + "/Messages.json?" + q.Encode()
	writeJSON(w, http.StatusOK, struct {
		End             int        `json:"end"`
		FirstPageURI    string     `json:"first_page_uri"`
		NextPageURI     *string    `json:"next_page_uri"`
		Page            int        `json:"page"`
		PageSize        int        `json:"page_size"`
		PreviousPageURI *string    `json:"previous_page_uri"`
		Messages        []resource `json:"messages"`
		Start           int        `json:"start"`
		URI             string     `json:"uri"`
	}{End: max(len(out)-1, 0), FirstPageURI: uri, PageSize: size, Messages: append([]resource{}, out...), URI: uri})
}

// validate applies Twilio's checks of a Messages create request.
func validate(m Message) *APIError {
	switch {
	case m.To == "":
		return &APIError{http.StatusBadRequest, 21604, "A 'To' phone number is required."}
	case m.From == "":
		return &APIError{http.StatusBadRequest, 21603, "A 'From' phone number is required."}
	case !e164.MatchString(m.To):
		return &APIError{http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", m.To)}
	case m.Body == "" && len(m.MediaURLs) == 0:
		return &APIError{http.StatusBadRequest, 21602, "Message body is required."}
	case len(m.MediaURLs) > maxMedia:
		return &APIError{http.StatusBadRequest, 21623, "Number of media files exceeds allowed limit."}
	case !mediaURLsOK(m.MediaURLs):
		return &APIError{http.StatusBadRequest, 21620, "Invalid media URL(s)."}
	case utf8.RuneCountInString(m.Body) > maxBodyChars:
		return &APIError{http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit."}
	}
	return nil
}

// resource is Twilio's JSON Message resource, fields in Twilio's order.
type resource struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                string            `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

func (f *Fake) resource(m Message) resource {
	date := m.Created.Format(time.RFC1123Z)
	base := "/" + apiVersion + "/Accounts/" + f.accountSID + "/Messages/" + m.SID
	return resource{
		AccountSID:      f.accountSID,
		APIVersion:      apiVersion,
		Body:            m.Body,
		DateCreated:     date,
		DateUpdated:     date,
		Direction:       "outbound-api",
		From:            m.From,
		NumMedia:        strconv.Itoa(len(m.MediaURLs)),
		NumSegments:     strconv.Itoa(Segments(m.Body)),
		PriceUnit:       "USD",
		SID:             m.SID,
		Status:          "queued",
		SubresourceURIs: map[string]string{"media": base + "/Media.json"},
		To:              m.To,
		URI:             base + ".json",
	}
}

// Segments estimates how many SMS segments Twilio bills for body: 160
// characters (153 per part when split) for plain ASCII text, else 70 (67)
// for UCS-2. It does not model the full GSM-7 alphabet.
func Segments(body string) int {
	n := utf8.RuneCountInString(body)
	single, part := 160, 153
	for _, r := range body {
		if r >= 0x80 {
			single, part = 70, 67
			break
		}
	}
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}

func writeError(w http.ResponseWriter, e *APIError) {
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
		Status   int    `json:"status"`
	}{e.Code, e.Message, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code), status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
