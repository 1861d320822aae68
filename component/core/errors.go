package core

import (
	"errors"

	"xmppgw/component/stanza"
	"xmppgw/mapping"
)

// StoreError is the stanza error that answers a stanza the store could not
// take: wait/resource-constraint while the store is unavailable
// (mapping.ErrUnavailable), else wait/internal-server-error.
func StoreError(err error) *stanza.Error {
	cond := "internal-server-error"
	if errors.Is(err, mapping.ErrUnavailable) {
		cond = "resource-constraint"
	}
	return stanza.NewError("wait", cond, "the gateway cannot store messages right now; try again later")
}

// ErrCrowded refuses a stanza whose sender has too many steps in flight
// (Later past its bounds, or a handler that would Await past Crowded).
var ErrCrowded = stanza.NewError("wait", "resource-constraint", "too many of your requests are in progress; try again shortly")
