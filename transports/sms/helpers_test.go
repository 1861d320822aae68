package sms

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"xmppgw/transports"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "s3cr3tT0ken42"
	testAlice = "+15550001111"
)

// recSink records what a transport hands it; err, if set, is returned.
type recSink struct {
	mu       sync.Mutex
	err      error
	inbound  []transports.Inbound
	statuses []transports.Status
}

func (s *recSink) Deliver(_ context.Context, in transports.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.inbound = append(s.inbound, in)
	return nil
}

func (s *recSink) Report(_ context.Context, st transports.Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.statuses = append(s.statuses, st)
	return nil
}

func (s *recSink) Reachable(bool, string) {}

func (s *recSink) Redeem(context.Context, transports.Addr, string, string) (string, error) {
	return "", &transports.LinkError{Msg: "not linkable"}
}

func (s *recSink) Unlink(context.Context, transports.Addr) (string, error) {
	return "", &transports.LinkError{Msg: "not linkable"}
}

func (s *recSink) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inbound), len(s.statuses)
}

var errSink = errors.New("store is down")

var fixedNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// newTestTransport builds a transport talking to apiURL with webhooks under
// publicURL.
func newTestTransport(t testing.TB, apiURL, publicURL string) *Transport {
	t.Helper()
	tr, err := New(transports.Params{Name: "sms", Domain: "sms.example.test", PublicURL: publicURL}, &Settings{
		AccountSID: testSID,
		AuthToken:  testToken,
		APIURL:     apiURL,
		Numbers:    map[string]string{"Alice@Example.test": "+1 (555) 000-1111"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.now = func() time.Time { return fixedNow }
	return tr
}
