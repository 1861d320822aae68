// Package coretest is a core.Core for the tests of the concern packages
// (muc, roster, vcard, adhoc): the gateway a module is built for, without
// a session or an intake. A test embeds *Core in its own type to override
// what it needs to see (Relay, Queue, Barrier); a method neither
// implements panics, so a module's use of the core stays visible.
package coretest
