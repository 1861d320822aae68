// Package tguserfake is an in-process fake of Telegram's server for the
// user (MTProto) API, layer 170, for the telegram-user transport's tests
// and the demo.
//
// It runs one data center (DC 2) on an IPv4 loopback address with gotd's
// tgtest server, so a real github.com/gotd/td/telegram client talks to it
// unchanged: real key exchange with the fake's own RSA key (PublicKey,
// PublicKeyPEM), real encryption, real TL types.
//
//	s, err := tguserfake.Start(ctx, "127.0.0.1:0", logger)
//	defer s.Close()
//	u := s.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Ann"})
//	client := telegram.NewClient(appID, appHash, telegram.Options{
//		DC:         s.DC(),
//		DCList:     dcs.List{Options: []tg.DCOption{s.DCOption()}},
//		PublicKeys: []telegram.PublicKey{{RSA: s.PublicKey()}},
//		...
//	})
//
// Users log in with auth.sendCode (the code is read with LastCode, and
// logged) and auth.signIn, then auth.checkPassword with real SRP when they
// have a cloud password. As on Telegram, authorization belongs to the
// MTProto auth key, so a client restored from its session storage stays
// logged in. A test (or the demo) plays every other party with Post,
// PostMedia, Edit, Delete, React, Typing, SetOnline and MarkRead, and reads
// what the clients did with Sent, History, ReadUpTo and TypingSeen. Faults:
// FloodWait, Revoke, Disconnect and Hold.
//
// Every user has a pts-ordered update log, readable with updates.getState
// and updates.getDifference (100 updates per call, then a slice). Logged
// updates are UpdateNewMessage, UpdateEditMessage, UpdateDeleteMessages,
// UpdateReadHistoryInbox and UpdateReadHistoryOutbox. They, and the
// unlogged UpdateMessageReactions, UpdateUserTyping, UpdateChatUserTyping
// and UpdateUserStatus, are pushed as tg.Updates (with their users and
// chats) to the most recently active session of each auth key logged in as
// the user, except the key whose call caused them (it gets them in the
// answer).
//
// Where it differs from Telegram:
//   - Message ids are global: one sequence for all users, so a message has
//     the same id in every box. seq and qts are always 0.
//   - Access hashes are per user, not per viewer, and are checked.
//   - Only existing accounts log in: auth.sendCode for an unknown phone is
//     PHONE_NUMBER_INVALID (no sign-up). A wrong, replaced or expired (5 min)
//     code is PHONE_CODE_INVALID.
//   - Message.from_id is always set, also in private chats.
//   - messages.deleteMessages without revoke deletes for the caller only;
//     with revoke (and Delete) for everyone. Reactions, typing and status
//     are not in the update log, so they are lost while a user is held.
//   - Photos have one size, "x"; upload.getFile serves the whole file for
//     any thumb size, with any offset and a limit up to 1 MiB.
//   - FloodWait only answers FLOOD_WAIT; it does not enforce the wait.
//   - Revoke makes calls that need a user answer AUTH_KEY_UNREGISTERED;
//     help.getConfig and the login calls still work on that key.
//   - Unknown methods answer 400 INPUT_METHOD_INVALID.
//
// The server keeps everything in memory: auth keys die with it, and a
// client of a restarted fake must log in again.
package tguserfake
