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
// Media (MMS) are served under transports.Params.MediaURL, HMAC-signed with
// a key derived from the auth token over the whole path and an expiry
// (transports.MediaSigner), so that only URLs the gateway handed out are
// served and nothing is stored but an inbound medium's Twilio URL:
//
//	GET /media/<name>/<sig>/<expiry>/<MessageSid>/<N><ext>   inbound medium
//	    N, fetched from Twilio (only under api_url's host) with the
//	    account's credentials
//	GET /media/<name>/out/<sig>/<expiry>/<base64url(URL)>    an outbound
//	    attachment on a non-public server, fetched from it when Twilio asks
//
// Files are served as transports.ServeMedia does (passive types inline,
// the rest as downloads, in a sandbox). Outbound attachments on public
// hosts (see transports.IsPublicURL) go to Twilio as they are; others only
// if transports.Params.Fetch allows their address, checked at send time and
// again on connecting: else Send fails with transports.KindNotAllowed.
//
// Phone numbers are normalised to E.164 ("+15551234567") with
// github.com/nyaruka/phonenumbers; 3 to 8 digits without "+" are a short
// code, kept as they are, in both directions. A sender that is neither
// (an alphanumeric sender id, anything else) has an address starting with
// "#", so that its contact JID is no team inbox's room (sender.go). The
// package never logs the auth token nor puts it in an error.
//
// The subpackage twiliofake is an in-process fake of Twilio for tests and
// demos.
package sms
