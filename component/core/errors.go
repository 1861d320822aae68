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
