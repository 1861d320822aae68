// Package adhoc is XEP-0050 ad-hoc commands on the gateway JID: users see
// their links and link or unlink chats; admins manage everyone's links,
// read the statistics and send a test message.
//
// It registers one route, an IQ with a <command/> to the gateway JID, and
// lists the commands a user may run as the disco#items of the commands
// node (core.NodeItems). A command with a form answers with the form, then
// runs on its submission; no state is kept between the two, the submitted
// form carries everything. The module reaches the gateway only through
// core.Core.
package adhoc
