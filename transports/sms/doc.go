// Package sms is the transport for Twilio and Twilio-compatible SMS APIs.
//
// It registers itself as transport type "twilio". Outbound messages go
// through twilio-go's Messages API, pointed at Settings.APIURL. Inbound
// messages and delivery reports arrive as webhooks, which the core mounts at
// /hooks/<name>/:
//
//	POST /hooks/<name>/inbound   incoming SMS (Twilio's "A message comes in")
//	POST /hooks/<name>/status    delivery reports (the StatusCallback of Send)
//
// Every webhook must carry a valid X-Twilio-Signature computed over the public
// URL (transports.Params.PublicURL + path) and come from our account.
//
// Phone numbers are normalised to E.164 ("+15551234567") with
// github.com/nyaruka/phonenumbers. The package never logs the auth token nor
// puts it in an error.
//
// The subpackage twiliofake is an in-process fake of Twilio for tests and
// demos.
package sms
