// Package router routes the stanzas the component receives to the handlers
// that registered for them, after mellium's mux: a handler registers the
// stanza kind, the types, the payload (namespace and name) and the kind of
// address (the gateway JID, a contact, a room, an occupant) it handles, and
// the disco features it provides, so that disco#info is built from what is
// handled and cannot drift from it.
//
// Unlike mux, a handler's error never ends the stream: the router answers
// the stanza with it (a *stanza.Error as it is, anything else as
// modify/bad-request when decoding failed, or internal-server-error), and
// goes on. Handlers decode only their own payload (Stanza.DecodePayload),
// so a bad value elsewhere in a stanza is none of their business. A handler
// that takes only some of the stanzas its route matches returns Pass for
// the others, which go on to the next matching route.
//
// Concern packages (MUC, vCards, commands...) register in init with
// Register; the core adds its own routes and builds one Router per
// gateway with New.
package router
