package sms_test

import (
	"context"
	"fmt"

	"xmppgw/internal/fake/twiliofake"
	"xmppgw/transports"
	"xmppgw/transports/sms"
)

// A transport sending through the fake, as in the demo sandbox.
func Example() {
	fake := twiliofake.New("AC123", "tok3n")
	apiURL, err := fake.Start()
	if err != nil {
		panic(err)
	}
	defer fake.Close()

	settings := &sms.Settings{
		AccountSID: "AC123",
		AuthToken:  "tok3n",
		APIURL:     apiURL,
		Numbers:    map[string]string{"alice@example.com": "+1 555 000 1111"},
	}
	if problems := settings.Validate(); problems != nil {
		panic(fmt.Sprint(problems))
	}
	tr, err := sms.New(transports.Params{
		Name:      "sms",
		PublicURL: "https://gw.example.com/hooks/sms",
	}, settings)
	if err != nil {
		panic(err)
	}

	to, _ := tr.ParseAddr("(555) 123-4567")
	from := tr.Accounts()["alice@example.com"]
	if _, err := tr.Send(context.Background(), transports.Outbound{Account: from, To: to, Body: "hi"}); err != nil {
		panic(err)
	}
	m := fake.Messages()[0]
	fmt.Println(m.From, "->", m.To, m.Body, m.StatusCallback)

	// Twilio's webhooks go to tr.Webhooks(sink), mounted at /hooks/sms/.
	// Output: +15550001111 -> +15551234567 hi https://gw.example.com/hooks/sms/status#rc=5&rp=all
}
