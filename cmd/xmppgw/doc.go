// Command xmppgw runs the XMPP gateway.
//
//	xmppgw run -config FILE     run until SIGINT or SIGTERM
//	xmppgw check -config FILE   validate a config; exit 2 listing every problem
//	xmppgw links ...            list, add or remove links in the store
//	xmppgw version              print the version
package main
