package sms

import (
	"testing"

	"xmppgw/transports/transporttest"
)

// A message with nothing to send is refused before any request: the zero
// Transport has no client, so a request would panic.
func TestSendNeverEmpty(t *testing.T) { transporttest.CheckEmptyRefused(t, &Transport{}) }
