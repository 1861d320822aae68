package twiliofake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Message is a message the fake accepted through its API.
type Message struct {
	SID            string // "SM" + 32 hex digits
	From, To, Body string
	StatusCallback string // empty if the sender asked for none
	MediaURLs      []string
	Created        time.Time
}

// APIError is a Twilio REST error: the HTTP status and Twilio's error code
// and message. Return one from an OnSend hook to make a send fail.
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return "twiliofake: HTTP " + strconv.Itoa(e.Status) + ", error " + strconv.Itoa(e.Code) + ": " + e.Message
}

// Fake is a fake Twilio account. The zero value is not usable; call New.
type Fake struct {
	accountSID, authToken string

	mu      sync.Mutex
	msgs    []Message
	changed chan struct{} // closed and replaced when msgs grows
	onSend  func(Message) *APIError
	rate    int                // sends per second per From; 0 = unlimited
	buckets map[string]*bucket // by From
	n429    int
	listAs  int // the status GET Messages.json answers with; 0: the listing
	nLists  int // GET Messages.json requests
	srv     *http.Server
	base    string // the API's base URL, once started

	media        map[string]media // by path
	mediaFetches int

	now    func() time.Time // replaceable in tests
	client *http.Client     // for webhooks
}

// New returns a fake of the account with the given credentials. It is not
// listening yet: use Start, or serve Handler yourself.
func New(accountSID, authToken string) *Fake {
	return &Fake{
		accountSID: accountSID,
		authToken:  authToken,
		changed:    make(chan struct{}),
		buckets:    map[string]*bucket{},
		now:        time.Now,
		client: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Start serves the API on a free port of 127.0.0.1 and returns its base URL
// ("http://127.0.0.1:PORT"), to be used as the transport's api_url.
func (f *Fake) Start() (baseURL string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		return "", errors.New("twiliofake: already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	f.srv = &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	f.base = "http://" + ln.Addr().String()
	return f.base, nil
}

// Close stops the server started by Start. It is safe to call more than once.
func (f *Fake) Close() {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Messages returns copies of the accepted messages, oldest first.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.copyMessages()
}

// copyMessages copies the accepted messages; the caller holds f.mu.
func (f *Fake) copyMessages() []Message {
	out := make([]Message, len(f.msgs))
	for i, m := range f.msgs {
		m.MediaURLs = slices.Clone(m.MediaURLs)
		out[i] = m
	}
	return out
}

// Wait blocks until at least n messages were accepted, then returns them all.
// If ctx ends first, it returns the messages so far and ctx.Err().
func (f *Fake) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		f.mu.Lock()
		if len(f.msgs) >= n {
			defer f.mu.Unlock()
			return f.copyMessages(), nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return f.Messages(), ctx.Err()
		}
	}
}

// OnSend sets a hook called for every valid send before it is accepted. A
// non-nil result makes the send fail with that error and nothing is stored.
// nil removes the hook.
func (f *Fake) OnSend(hook func(Message) *APIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSend = hook
}

// SetRateLimit allows each From number perSecond sends per second (a token
// bucket holding one second's worth); beyond that sends get 429 with code
// 20429. 0 removes the limit.
func (f *Fake) SetRateLimit(perSecond int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate = max(perSecond, 0)
	clear(f.buckets)
}

// SetListStatus makes GET Messages.json (the listing of messages) answer
// status, with a plain-text body that is not Twilio's, as a
// Twilio-compatible endpoint does that implements only POST Messages.json
// (404, 405 with "Allow: POST", 501), does not let these credentials list
// (401, 403), or fails (5xx). 0 restores the listing. Sends are unaffected.
func (f *Fake) SetListStatus(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listAs = status
}

// Lists returns how many GET Messages.json requests were authorized,
// answered with the listing or not.
func (f *Fake) Lists() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nLists
}

// Count429 returns how many sends were refused by the rate limit.
func (f *Fake) Count429() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n429
}

// bucket is a token bucket for one From number.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token for from; f.mu is held.
func (f *Fake) allow(from string) bool {
	if f.rate <= 0 {
		return true
	}
	now := f.now()
	b := f.buckets[from]
	if b == nil {
		b = &bucket{tokens: float64(f.rate), last: now}
		f.buckets[from] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(float64(f.rate), b.tokens+el.Seconds()*float64(f.rate))
	}
	b.last = now
	if b.tokens < 1 {
		f.n429++
		return false
	}
	b.tokens--
	return true
}

// newSID returns a SID with the given two-letter prefix and 32 hex digits.
func newSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
