// Package twiliofake is an in-process fake of Twilio's Messages API and of the
// webhooks Twilio sends, for tests and the demo sandbox.
//
// It speaks Twilio's wire format: POST
// /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth and a
// form body, answered by a Message resource (201) or an error object such as
//
//	{"code":21211,"message":"The 'To' number 12 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}
//
// and it posts inbound messages and status callbacks signed with
// X-Twilio-Signature exactly as Twilio does (see Sign).
//
// Media: sends accept up to 10 MediaUrl (kept in Message.MediaURLs, not
// fetched); AddMedia stores a file served, with Basic auth, at
// /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid};
// InboundMMSForm and SendInboundMMS post an incoming MMS pointing at it.
//
// It keeps everything in memory and is safe for concurrent use. It does not
// import net/http/httptest, so linking it into a binary adds no flags.
package twiliofake
