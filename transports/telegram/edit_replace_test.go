package telegram

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
)

// filesShown describes the files the bot sent to chat, as they are now:
// "ID METHOD CONTENT CAPTION", the content being the bytes uploaded or the
// URL Telegram was given.
func filesShown(fake *botfake.Fake, chat int64) []string {
	var out []string
	for _, m := range fake.Media() {
		if m.ChatID != chat {
			continue
		}
		content := string(m.Data)
		if m.URL != "" {
			content = m.URL
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%d %s %s %s", m.MessageID, m.Method, content, m.Caption)))
	}
	return out
}

// A correction whose file is not the original's (another URL) replaces it
// in place with editMessageMedia, with the corrected caption, rather than
// dropping the new file silently; a file the correction no longer carries
// stays, one it adds is sent, and the same correction again changes
// nothing. Telegram cannot replace a voice note: such a correction is
// refused before anything changes.
func TestCorrectionReplacingFile(t *testing.T) {
	long := strings.Repeat("word ", 300)
	const cdn = "https://cdn.example.invalid/img/"
	tests := []struct {
		name              string
		first, correction transports.Outbound // Media: names of the test's files, or URLs
		wantID            string
		wantErr           string
		shows             []string // see shows
		files             []string // see filesShown
	}{
		{name: "photo swapped, caption changed",
			first:      transports.Outbound{Body: "my pet", Media: []string{"cat.jpg"}},
			correction: transports.Outbound{Body: "my pet, the right one", Media: []string{"dog.jpg"}},
			wantID:     "111:1", shows: []string{"1 photo (21 chars)"},
			files: []string{"1 editMessageMedia DOGBYTES my pet, the right one"}},
		{name: "photo swapped, no caption",
			first:      transports.Outbound{Media: []string{"cat.jpg"}},
			correction: transports.Outbound{Media: []string{"dog.jpg"}},
			wantID:     "111:1", shows: []string{"1 photo "}, files: []string{"1 editMessageMedia DOGBYTES"}},
		{name: "photo swapped for one Telegram fetches by URL",
			first:      transports.Outbound{Body: "my pet", Media: []string{"cat.jpg"}},
			correction: transports.Outbound{Body: "my pet", Media: []string{cdn + "dog.webp"}},
			wantID:     "111:1", shows: []string{"1 photo my pet"},
			files: []string{"1 editMessageMedia " + cdn + "dog.webp my pet"}},
		{name: "photo after a long text swapped, the text corrected",
			first:      transports.Outbound{Body: long, Media: []string{"cat.jpg"}},
			correction: transports.Outbound{Body: long + "!", Media: []string{"dog.jpg"}},
			wantID:     "111:1,2", shows: []string{"1 text (1501 chars)", "2 photo "},
			files: []string{"2 editMessageMedia DOGBYTES"}},
		{name: "the second of two files swapped for a document",
			first:      transports.Outbound{Body: "two", Media: []string{"cat.jpg", "dog.jpg"}},
			correction: transports.Outbound{Body: "two", Media: []string{"cat.jpg", "a.pdf"}},
			wantID:     "111:1,2", files: []string{"1 sendPhoto CATBYTES two", "2 editMessageMedia %PDF"}},
		{name: "the first of two files no longer carried: both stay",
			first:      transports.Outbound{Media: []string{"cat.jpg", "dog.jpg"}},
			correction: transports.Outbound{Body: "the dog", Media: []string{"dog.jpg"}},
			wantID:     "111:1,2", files: []string{"1 sendPhoto CATBYTES the dog", "2 sendPhoto DOGBYTES"}},
		{name: "a file added",
			first:      transports.Outbound{Body: "pets", Media: []string{"cat.jpg"}},
			correction: transports.Outbound{Body: "pets", Media: []string{"cat.jpg", "dog.jpg"}},
			wantID:     "111:1,2", files: []string{"1 sendPhoto CATBYTES pets", "2 sendPhoto DOGBYTES"}},
		{name: "a voice note swapped: refused, nothing changed",
			first:      transports.Outbound{Body: "listen", Media: []string{"note.ogg"}},
			correction: transports.Outbound{Body: "look", Media: []string{"cat.jpg"}},
			wantErr:    "Telegram error 400: a correction cannot replace a voice note: Bad Request: message media can't be edited",
			files:      []string{"1 sendVoice OGGBYTES listen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, fake := newTest(t, ModePolling, nil)
			fake.AddChat(dm)
			allowLoopback(t, tr)
			publicHosts(t, cdn) // HEAD finds no such host: sent by URL, by its name
			fs := newFileServer(t, map[string][2]string{
				"/up/cat.jpg":  {"image/jpeg", "CATBYTES"},
				"/up/dog.jpg":  {"image/jpeg", "DOGBYTES"},
				"/up/a.pdf":    {"application/pdf", "%PDF"},
				"/up/note.ogg": {"audio/ogg", "OGGBYTES"},
			})
			urls := func(m []string) []string {
				var out []string
				for _, f := range m {
					if !strings.HasPrefix(f, "https://") {
						f = fs.URL + "/up/" + f
					}
					out = append(out, f)
				}
				return out
			}
			ctx := testCtx(t)
			first, corr := tt.first, tt.correction
			first.To, first.ID, first.Media = "111", "1", urls(first.Media)
			id, err := tr.Send(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			corr.To, corr.ID, corr.Media, corr.Replaces = "111", "2", urls(corr.Media), id
			got, err := tr.Send(ctx, corr)
			if tt.wantErr != "" {
				pe, _ := err.(*transports.Error)
				if pe == nil || pe.Kind != transports.KindRejected || err.Error() != tt.wantErr {
					t.Errorf("correction = %q, %v; want rejected: %s", got, err, tt.wantErr)
				}
			} else if err != nil || got != tt.wantID {
				t.Errorf("correction = %q, %v; want %q", got, err, tt.wantID)
			}
			if tt.shows != nil {
				if s := shows(fake, 111); !slices.Equal(s, tt.shows) {
					t.Errorf("the chat shows %q, want %q", s, tt.shows)
				}
			}
			if f := filesShown(fake, 111); !slices.Equal(f, tt.files) {
				t.Errorf("the chat's files are %q, want %q", f, tt.files)
			}
			if tt.wantErr != "" {
				if n := len(fake.Edits()) + len(fake.CaptionEdits()); n != 0 {
					t.Errorf("%d edits made by a correction refused", n)
				}
				return
			}
			// The same correction again changes nothing.
			edits := len(fake.MediaEdits())
			again := corr
			again.ID, again.Replaces = "3", got
			if got2, err := tr.Send(ctx, again); err != nil || got2 != got {
				t.Errorf("the same correction again: %q, %v; want %q", got2, err, got)
			}
			if f := filesShown(fake, 111); !slices.Equal(f, tt.files) || len(fake.MediaEdits()) != edits {
				t.Errorf("after the same correction again the chat's files are %q (%d replaced), want %q (%d)",
					f, len(fake.MediaEdits()), tt.files, edits)
			}
		})
	}
}
