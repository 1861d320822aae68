// Package alerts is the gateway's alert endpoint, POST /alerts: it takes
// Prometheus Alertmanager's webhook payload, or a simple
// {"to": [...], "text": "..."}, routes alerts by their labels, renders them
// as one readable text per destination (one SMS for a phone number) and
// hands each text to a Queue, which stores it for delivery.
//
// The package knows no XMPP library and no provider: destinations are JIDs
// as strings, and the gateway core implements Queue (component.AlertQueue).
//
//	Alertmanager -> Handler -> route -> render -> Queue -> store -> XMPP / SMS / Telegram
package alerts
