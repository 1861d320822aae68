package core

import "xmppgw/component/router"

// Held is implemented by a step's writer (Core.Later, Core.Await): what is
// encoded to it is held until the step's work returns, then written in
// the order of the user's steps.
type Held interface {
	// AfterWritten runs f once what the writer holds is written to the
	// session (the write has returned), or given up (the session ended),
	// with a writer whose stanzas are written to the session at once,
	// after it (dropped and counted if it was given up).
	AfterWritten(f func(w router.Writer))
}

// AfterWritten runs f with a writer on which what it encodes follows what
// w holds: once that is written if w is a step's writer (Held); at once,
// with w, otherwise. A step's answers that what the user writes next must
// follow (a join's self-presence, before a message's reflection), and
// that hold the room's traffic to a joining client, are marked written
// with it: only once they are on the session, so that nothing written
// another way (the store's queue) overtakes them.
func AfterWritten(w router.Writer, f func(w router.Writer)) {
	if h, ok := w.(Held); ok {
		h.AfterWritten(f)
		return
	}
	f(w)
}
