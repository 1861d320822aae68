package core

import "xmppgw/component/router"

// Held is implemented by a step's writer (Core.Later, Core.Await): what is
// encoded to it is held until the step's work returns, then written in
// the order of the user's steps.
type Held interface {
	// AfterWritten runs f right after what the writer holds is written,
	// with the writer of the session: what f encodes follows it.
	AfterWritten(f func(w router.Writer))
}

// AfterWritten runs f with a writer on which what it encodes follows what
// w holds: once that is written if w is a step's writer (Held); at once,
// with w, otherwise. A step's answers that what the user writes next must
// follow (a join's self-presence, before a message's reflection) are
// marked written with it.
func AfterWritten(w router.Writer, f func(w router.Writer)) {
	if h, ok := w.(Held); ok {
		h.AfterWritten(f)
		return
	}
	f(w)
}

// Prompt is implemented by a step's writer that can also write at once.
type Prompt interface {
	// Now returns a writer whose stanzas are written at once: not after
	// what the step's writer holds nor after the user's earlier steps,
	// but in order with everything else the session is given.
	Now() router.Writer
}

// Now returns a writer for what a step tells others of its work (a
// join's presence to the room's other occupants), which must not wait
// behind the user's own answers: written at once if w is a step's writer
// (Prompt); w itself otherwise, which holds nothing back.
func Now(w router.Writer) router.Writer {
	if p, ok := w.(Prompt); ok {
		return p.Now()
	}
	return w
}
