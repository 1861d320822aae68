// Package alerts is the gateway's alert endpoint, POST /alerts, and its
// on-call desk. The endpoint takes Prometheus Alertmanager's webhook
// payload (and Grafana's, the same fields and more), or a simple
// {"to": [...], "text": "..."}, routes alerts by their labels, renders them
// as one readable text per destination (one SMS for a phone number) and
// hands each text to a Queue, which stores it for delivery.
//
// The Desk (with a Book, the store of open groups) gives each firing
// group a code, takes the recipients' answers (ack, unack, silence,
// status), escalates the groups nobody acknowledges by their route's
// steps, and tells every recipient what happened.
//
// The package knows no XMPP library and no provider: destinations are JIDs
// as strings, the gateway core implements Queue (component.AlertQueue) and
// hands the Desk the answers it reads, and Alertmanager's API creates the
// silences.
//
//	Alertmanager -> Handler -> route -> Desk (code) -> render -> Queue -> store -> XMPP / SMS / Telegram
//	answer (XMPP / SMS / Telegram) -> core -> Desk.Answer -> Queue, Alertmanager
package alerts
