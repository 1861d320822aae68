// Package roster puts the gateway's contacts on its users' rosters: with a
// roster push where the user's server grants the gateway XEP-0356
// (Privileged Entity) roster access, else with a subscription request.
//
// A server grants the privilege after the component connects, with a
// message from each of its domains:
//
//	<message from="example.test" to="tg.example.test">
//	  <privilege xmlns="urn:xmpp:privilege:2"><perm access="roster" type="both"/></privilege>
//	</message>
//
// Only a message from a server's domain to the gateway JID is an
// advertisement: a user's message that carries such an element goes on to
// the core's message route (router.Pass), as any other message. And only
// the advertisement of a domain the gateway has users of (access.allow
// names it or a JID of it) counts; any other server's is ignored.
//
// Where roster "set" is granted, a linked contact is pushed straight into
// the user's roster (in a group named after the transport) instead of
// asking the user to subscribe, and removed from it on unlink. The links
// from the config are added when the component connects, not only with
// their chat's first message.
//
// XEP-0356 defines no disco feature for the privileged entity: the module's
// routes declare none.
package roster
