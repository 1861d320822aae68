package core

import "xmppgw/component/router"

// HandOver is implemented by a step's writer (Core.Later, Core.Await): what
// is encoded to it is held until the step's work returns, then handed over
// to be written in the order of the user's steps.
type HandOver interface {
	// AfterHandOver runs f once what the writer holds is handed over.
	AfterHandOver(f func())
}

// AfterHandOver runs f once what w holds is handed over, if w is a step's
// writer (HandOver); at once otherwise. A step that holds back the user's
// next stanzas (a room's turn) lets them go with it, so that their answers
// come after its own.
func AfterHandOver(w router.Writer, f func()) {
	if h, ok := w.(HandOver); ok {
		h.AfterHandOver(f)
		return
	}
	f()
}
