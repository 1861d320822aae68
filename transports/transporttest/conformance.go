package transporttest

import (
	"context"
	"errors"
	"testing"

	"xmppgw/transports"
)

// EmptyOutbounds are messages with nothing to send (transports.Outbound.Empty).
var EmptyOutbounds = []transports.Outbound{
	{},
	{Body: " \n\t"},
	{Body: "", Replaces: "R1"},
	{Body: "", ReplyTo: "R1", Quote: "earlier text"},
}

// CheckEmptyRefused checks the Send contract for messages with nothing to
// send: each gets a *transports.Error of KindRejected, and no request.
// Pass a transport that fails the test on any request (a zero value does:
// it has nowhere to send).
func CheckEmptyRefused(t *testing.T, tr transports.Transport) {
	t.Helper()
	for i, out := range EmptyOutbounds {
		out.To, out.ID = "1", "empty"
		id, err := tr.Send(context.Background(), out)
		var pe *transports.Error
		if !errors.As(err, &pe) || pe.Kind != transports.KindRejected || id != "" {
			t.Errorf("%d: Send(%+v) = %q, %v; want a KindRejected *transports.Error", i, out, id, err)
		}
	}
}
