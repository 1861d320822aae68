package sms

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"xmppgw/transports"
)

func TestValidate(t *testing.T) {
	const token = "s3cr3tT0ken42"
	cases := []struct {
		in        Settings
		want      []transports.Problem
		numbers   map[string]string // after Validate, when no problems
		apiURL    string
		region    string
		reconcile string
	}{
		0: {
			in:        Settings{AccountSID: testSID, AuthToken: token},
			apiURL:    "https://api.twilio.com",
			region:    "US",
			numbers:   nil,
			reconcile: "list",
		},
		1: {
			in: Settings{AccountSID: testSID, AuthToken: token, APIURL: "http://127.0.0.1:8080/proxy/", DefaultRegion: "gb",
				Numbers: map[string]string{
					"Alice@Example.COM": "07700 900123",
					"bob@example.com":   "+1 (555) 123-4567",
				}},
			apiURL:    "http://127.0.0.1:8080/proxy",
			region:    "GB",
			numbers:   map[string]string{"alice@example.com": "+447700900123", "bob@example.com": "+15551234567"},
			reconcile: "list",
		},
		2: {
			in: Settings{},
			want: []transports.Problem{
				prob("account_sid", "is required"),
				prob("auth_token", "is required"),
			},
		},
		3: {
			in: Settings{AccountSID: "AC-123", AuthToken: "tok/en" + token},
			want: []transports.Problem{
				prob("account_sid", "must contain only letters and digits"),
				prob("auth_token", "must contain only letters and digits"),
			},
		},
		4: {
			in:   Settings{AccountSID: testSID, AuthToken: token, APIURL: "api.twilio.com"},
			want: []transports.Problem{prob("api_url", "must be an absolute http or https URL")},
		},
		5: {
			in:   Settings{AccountSID: testSID, AuthToken: token, APIURL: "ftp://api.twilio.com"},
			want: []transports.Problem{prob("api_url", "must be an absolute http or https URL")},
		},
		6: {
			in:   Settings{AccountSID: testSID, AuthToken: token, APIURL: "https://u:" + token + "@api.twilio.com"},
			want: []transports.Problem{prob("api_url", "must not contain credentials")},
		},
		7: {
			in:   Settings{AccountSID: testSID, AuthToken: token, APIURL: "https://api.twilio.com/?x=1"},
			want: []transports.Problem{prob("api_url", "must not have a query or fragment")},
		},
		8: {
			in:   Settings{AccountSID: testSID, AuthToken: token, DefaultRegion: "XX"},
			want: []transports.Problem{prob("default_region", `unknown region code "XX" (want an ISO 3166 code such as "US")`)},
		},
		9: {
			in: Settings{AccountSID: testSID, AuthToken: token, Numbers: map[string]string{
				"alice@example.com":     "12",
				"bob":                   "+15551234567",
				"carol@example.com/res": "+15551234567",
				"dave@@example.com":     "+15551234567",
				"erin@example.com":      "555-1234",
				"frank@example.com":     "",
				"gina@example.com":      "call me",
			}},
			want: []transports.Problem{
				prob("numbers.alice@example.com", `"12" is not a valid phone number (too short)`),
				prob("numbers.bob", `"bob" is not a bare JID (want user@domain)`),
				prob("numbers.carol@example.com/res", `"carol@example.com/res" is not a bare JID (want user@domain)`),
				prob("numbers.dave@@example.com", `"dave@@example.com" is not a bare JID (want user@domain)`),
				prob("numbers.erin@example.com", `"555-1234" is not a phone number: a short code is written as its digits alone, a national number of up to 8 digits with its "+" and country code`),
				prob("numbers.frank@example.com", "empty phone number"),
				prob("numbers.gina@example.com", `"call me" is not a valid phone number (unexpected 'c')`),
			},
		},
		10: {
			in: Settings{AccountSID: testSID, AuthToken: token, Numbers: map[string]string{
				"Alice@example.com": "+15551234567",
				"alice@example.com": "+15557654321",
				"bob@example.com":   "555 123 4567",
			}},
			want: []transports.Problem{
				prob("numbers.alice@example.com", "duplicates another entry for alice@example.com"),
				prob("numbers.bob@example.com", `"555 123 4567" is already the number of alice@example.com`),
			},
		},
		11: {
			// A bad region: numbers then need a country code.
			in: Settings{AccountSID: testSID, AuthToken: token, DefaultRegion: "ZZ", Numbers: map[string]string{
				"alice@example.com": "555 123 4567",
			}},
			want: []transports.Problem{
				prob("default_region", `unknown region code "ZZ" (want an ISO 3166 code such as "US")`),
				prob("numbers.alice@example.com", `"555 123 4567" is not a valid phone number (unknown country code)`),
			},
		},
		12: {
			in:        Settings{AccountSID: testSID, AuthToken: token, Reconcile: "resend"},
			apiURL:    "https://api.twilio.com",
			region:    "US",
			reconcile: "resend",
		},
		13: {
			in:        Settings{AccountSID: testSID, AuthToken: token, Reconcile: "list"},
			apiURL:    "https://api.twilio.com",
			region:    "US",
			reconcile: "list",
		},
		14: {
			in:   Settings{AccountSID: testSID, AuthToken: token, Reconcile: "never"},
			want: []transports.Problem{prob("reconcile", `"never" is not list or resend (list: look for a send of unknown outcome in the provider's messages before sending again; resend: send again without looking)`)},
		},
		15: {
			in:   Settings{AccountSID: testSID, AuthToken: token, Reconcile: "Resend"},
			want: []transports.Problem{prob("reconcile", `"Resend" is not list or resend (list: look for a send of unknown outcome in the provider's messages before sending again; resend: send again without looking)`)},
		},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s := tc.in
			got := s.Validate()
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("problems:\n got %q\nwant %q", got, tc.want)
			}
			for _, p := range got {
				if strings.Contains(p.Msg, token) || strings.Contains(p.Key, token) {
					t.Errorf("problem %q reveals the token", p)
				}
			}
			if len(tc.want) > 0 {
				return
			}
			if s.APIURL != tc.apiURL || s.DefaultRegion != tc.region || s.Reconcile != tc.reconcile {
				t.Errorf("api_url %q region %q reconcile %q, want %q %q %q", s.APIURL, s.DefaultRegion, s.Reconcile, tc.apiURL, tc.region, tc.reconcile)
			}
			if !reflect.DeepEqual(s.Numbers, tc.numbers) {
				t.Errorf("numbers %v, want %v", s.Numbers, tc.numbers)
			}
			again := s
			if p := again.Validate(); p != nil || !reflect.DeepEqual(again, s) {
				t.Errorf("second Validate changed %v to %v (%v)", s, again, p)
			}
		})
	}
}

func prob(key, msg string) transports.Problem { return transports.Problem{Key: key, Msg: msg} }

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func TestSettingsRedacted(t *testing.T) {
	s := Settings{AccountSID: testSID, AuthToken: testToken}
	for i, out := range []string{
		s.String(), s.GoString(), s.LogValue().String(),
		sprintf("%v", s), sprintf("%+v", s), sprintf("%#v", s), sprintf("%v", &s), sprintf("%s", s),
	} {
		if strings.Contains(out, testToken) {
			t.Errorf("%d: %q reveals the token", i, out)
		}
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	_, err := New(transports.Params{Name: "sms"}, &Settings{AccountSID: testSID, AuthToken: "bad token " + testToken})
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Fatalf("New: %v", err)
	}
	if _, err := New(transports.Params{Name: "sms"}, nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

func TestRegistered(t *testing.T) {
	typ, ok := transports.Lookup("twilio")
	if !ok {
		t.Fatal("twilio is not registered")
	}
	s := typ.NewSettings().(*Settings)
	s.AccountSID, s.AuthToken = testSID, testToken
	s.Numbers = map[string]string{"Alice@example.com": "+15550001111"}
	if p := s.Validate(); p != nil {
		t.Fatal(p)
	}
	tr, err := typ.New(transports.Params{Name: "sms"}, s)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name() != "sms" {
		t.Errorf("Name = %q", tr.Name())
	}
	if got := tr.Accounts(); !reflect.DeepEqual(got, map[string]transports.Addr{"alice@example.com": "+15550001111"}) {
		t.Errorf("Accounts = %v", got)
	}
	if _, ok := tr.(transports.WebhookReceiver); !ok {
		t.Error("not a WebhookReceiver")
	}
	if _, err := typ.New(transports.Params{}, otherSettings{}); err == nil {
		t.Error("New with foreign settings succeeded")
	}
}

type otherSettings struct{}

func (otherSettings) Validate() []transports.Problem { return nil }

// An inbox's number, room and members are checked and normalised; its
// number is no user's.
func TestValidateInboxes(t *testing.T) {
	s := Settings{AccountSID: testSID, AuthToken: "s3cr3tT0ken42", Numbers: map[string]string{"alice@example.com": "+15550001111"},
		Inboxes: []InboxSettings{
			{Number: "(555) 000-9999", Room: " OnCall ", Members: []string{"Alice@Example.com", "bob@example.com"}},
			{Number: "+15550001111", Room: "+15550001111", Members: nil},
			{Number: "12", Room: "oncall", Members: []string{"not a jid"}},
		}}
	got := s.Validate()
	want := []transports.Problem{
		prob("inboxes[1].number", `"+15550001111" is the number of alice@example.com; an inbox's number is the inbox's alone`),
		prob("inboxes[1].room", `"+15550001111" is not a room name (a letter, then letters, digits, '.', '_' or '-'; at most 64)`),
		prob("inboxes[1].members", "at least one member (a bare JID) is required"),
		prob("inboxes[2].number", `"12" is not a valid phone number (too short)`),
		prob("inboxes[2].room", `"oncall" is the room of another inbox`),
		prob("inboxes[2].members[0]", `"not a jid" is not a bare JID (want user@domain)`),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%v\nwant\n%v", got, want)
	}
	if b := s.Inboxes[0]; b.Number != "+15550009999" || b.Room != "oncall" || !reflect.DeepEqual(b.Members, []string{"alice@example.com", "bob@example.com"}) {
		t.Errorf("normalised %+v", b)
	}
}
