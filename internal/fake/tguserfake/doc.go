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
// PostMedia, Edit, Delete, React (EditIn, DeleteIn, ReactIn for any chat,
// channels included), Typing, SetOnline and MarkRead, and reads what the
// clients did with Sent, History, ReadUpTo and TypingSeen. Faults:
// FloodWait, Revoke, Disconnect, Hold and ChannelTooLong.
//
// Chats are private chats (Peer{User}), basic groups (AddGroup,
// Peer{Chat}) and channels (AddChannel, Peer{Channel}): broadcast channels,
// where only the creator posts and posts have no author, and supergroups
// (megagroups), where every member posts. Every member of a channel has
// all its messages. Channel ids start at 1500000001; a channel's access
// hash is checked wherever an InputPeerChannel or InputChannel comes in
// (CHANNEL_INVALID), and a non-member gets CHANNEL_PRIVATE.
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
// Every channel has its own message ids (from 1) and its own pts-ordered
// log, readable by its members with updates.getChannelDifference (limit at
// most 100 entries per call, Final false while more remain; TooLong from
// more than 1000 behind, with the dialog and the 20 newest messages).
// Logged are UpdateNewChannelMessage, UpdateEditChannelMessage and
// UpdateDeleteChannelMessages; they, the unlogged UpdateMessageReactions
// and UpdateChannelUserTyping, are pushed to every member's sessions as
// above, with the channel (a tg.Channel with the member's own Creator and
// AdminRights) in Chats. Channel updates are in no user's log: they do not
// move the user's pts and are not in updates.getDifference. The channel
// RPCs are channels.getChannels, channels.getMessages,
// channels.deleteMessages and channels.readHistory; messages.sendMessage,
// sendMedia, editMessage, sendReaction, setTyping and getHistory (answered
// with messages.channelMessages) take an InputPeerChannel, and
// messages.getDialogs lists the user's channels with their pts.
//
// Where it differs from Telegram:
//   - Message ids of private chats and basic groups are global: one
//     sequence for all users, so a message has the same id in every box.
//     seq and qts are always 0.
//   - Access hashes are per user, not per viewer, and are checked.
//   - Only existing accounts log in: auth.sendCode for an unknown phone is
//     PHONE_NUMBER_INVALID (no sign-up). A wrong, replaced or expired (5 min)
//     code is PHONE_CODE_INVALID.
//   - Message.from_id is always set, also in private chats (not on a
//     broadcast channel's posts, as on Telegram).
//   - messages.deleteMessages without revoke deletes for the caller only;
//     with revoke (and Delete) for everyone. Reactions, typing and status
//     are not in the update log, so they are lost while a user is held.
//   - Photos have one size, "x"; upload.getFile serves the whole file for
//     any thumb size, with any offset and a limit up to 1 MiB.
//   - FloodWait only answers FLOOD_WAIT; it does not enforce the wait.
//   - Revoke makes calls that need a user answer AUTH_KEY_UNREGISTERED;
//     help.getConfig and the login calls still work on that key.
//   - Channels have fixed members (no joining or leaving), no admins but
//     the creator, no usernames, photos, signatures, slow mode, views,
//     pinned messages, forum topics or discussion groups, and no
//     channels.getFullChannel or channels.getParticipants. Only its author
//     edits a channel message; its author or the creator deletes it, for
//     everyone. channels.readHistory is recorded (ReadUpTo, the dialog's
//     unread count) but pushes nothing (no UpdateReadChannelInbox or
//     Outbox); messages.readHistory on a channel is PEER_ID_INVALID.
//   - updates.getDifference never carries UpdateChannelTooLong: a client
//     learns of a channel's missed updates from the next push (a pts gap)
//     or by calling updates.getChannelDifference itself. The
//     updates.state's unread_count does not count channel messages.
//   - Unknown methods answer 400 INPUT_METHOD_INVALID.
//
// The server keeps everything in memory: auth keys die with it, and a
// client of a restarted fake must log in again.
package tguserfake
