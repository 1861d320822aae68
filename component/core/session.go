package core

// SessionWatcher is an optional interface of an Instance that keeps state
// for one component session, such as what the server granted the gateway
// when it connected (XEP-0356).
//
// The core calls SessionChanged(true) when a session to the server is up,
// before its first stanza is handled, and SessionChanged(false) when it has
// ended, after its last. It is called on the connection's goroutine: it
// must not block (no network, no store); work that waits goes through
// Core.Go.
type SessionWatcher interface {
	SessionChanged(up bool)
}
