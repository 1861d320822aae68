package telegram

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xmppgw/internal/fake/botfake"
	"xmppgw/transports"
)

// shows describes what chat shows of the bot's messages not deleted, in
// order: "text <text>", or "photo <caption>" (a text or caption of more
// than 20 characters as its length).
func shows(fake *botfake.Fake, chat int64) []string {
	deleted := map[int]bool{}
	for _, d := range fake.Deleted() {
		deleted[d.MessageID] = true
	}
	short := func(s string) string {
		if len(s) > 20 {
			return fmt.Sprintf("(%d chars)", len(s))
		}
		return s
	}
	var out []string
	for _, m := range fake.SentTo(chat) {
		switch {
		case deleted[m.MessageID]:
		case m.Photo != nil:
			out = append(out, fmt.Sprintf("%d photo %s", m.MessageID, short(m.Caption)))
		default:
			out = append(out, fmt.Sprintf("%d text %s", m.MessageID, short(m.Text)))
		}
	}
	return out
}

// A correction of a message sent with a file replaces the whole message:
// it carries the file again, or not (a client that sends the text alone).
// Either way the file stays as it is and is not sent again; the text goes
// where it was: in the photo's caption (editMessageCaption: Telegram
// refuses editMessageText on a photo), or in the text message sent before
// a photo whose caption could not hold it, which is edited while the photo
// is kept (never deleted as a surplus part).
func TestCorrectionOfMessageWithFile(t *testing.T) {
	long := strings.Repeat("word ", 300) // 1,500 units: more than a caption holds
	tests := []struct {
		name       string
		first      transports.Outbound // Media "cat" is the test's photo
		correction transports.Outbound
		wantID     string   // the correction's remote id
		want       []string // what the chat shows after it (see shows)
	}{
		{name: "caption changed, the file carried again",
			first:      transports.Outbound{Body: "a cat", Media: []string{"cat"}},
			correction: transports.Outbound{Body: "a dog", Media: []string{"cat"}},
			wantID:     "111:1", want: []string{"1 photo a dog"}},
		{name: "caption changed, the text alone",
			first:      transports.Outbound{Body: "a cat", Media: []string{"cat"}},
			correction: transports.Outbound{Body: "a dog"},
			wantID:     "111:1", want: []string{"1 photo a dog"}},
		{name: "caption added to a photo sent without one",
			first:      transports.Outbound{Media: []string{"cat"}},
			correction: transports.Outbound{Body: "a cat", Media: []string{"cat"}},
			wantID:     "111:1", want: []string{"1 photo a cat"}},
		{name: "caption removed",
			first:      transports.Outbound{Body: "a cat", Media: []string{"cat"}},
			correction: transports.Outbound{Media: []string{"cat"}},
			wantID:     "111:1", want: []string{"1 photo "}},
		{name: "long text before the photo, corrected by the text alone",
			first:      transports.Outbound{Body: long, Media: []string{"cat"}},
			correction: transports.Outbound{Body: long + "!"},
			wantID:     "111:1,2", want: []string{"1 text (1501 chars)", "2 photo "}},
		{name: "long text before the photo, corrected short with the file",
			first:      transports.Outbound{Body: long, Media: []string{"cat"}},
			correction: transports.Outbound{Body: "short now", Media: []string{"cat"}},
			wantID:     "111:1,2", want: []string{"1 text short now", "2 photo "}},
		{name: "caption corrected past what a caption holds",
			first:      transports.Outbound{Body: "a cat", Media: []string{"cat"}},
			correction: transports.Outbound{Body: long, Media: []string{"cat"}},
			wantID:     "111:2,1", want: []string{"1 photo ", "2 text (1500 chars)"}},
		{name: "a text corrected with a file added",
			first:      transports.Outbound{Body: "look"},
			correction: transports.Outbound{Body: "look at this", Media: []string{"cat"}},
			wantID:     "111:1,2", want: []string{"1 text look at this", "2 photo "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, fake := newTest(t, ModePolling, nil)
			fake.AddChat(dm)
			allowLoopback(t, tr)
			fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
			ctx := testCtx(t)
			first := tt.first
			first.To, first.ID, first.Media = "111", "1", catFiles(fs, first.Media)
			id, err := tr.Send(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			corr := tt.correction
			corr.To, corr.ID, corr.Media, corr.Replaces = "111", "2", catFiles(fs, corr.Media), id
			got, err := tr.Send(ctx, corr)
			if err != nil {
				t.Fatalf("correction: %v", err)
			}
			if got != tt.wantID {
				t.Errorf("the correction's remote id is %q, want %q", got, tt.wantID)
			}
			if s := shows(fake, 111); !slices.Equal(s, tt.want) {
				t.Errorf("the chat shows %q, want %q", s, tt.want)
			}
			// Telegram refuses editMessageText on a photo: the fake
			// answers it 400, which the correction would have returned.
			if n := fake.Calls("editMessageText") - len(fake.Edits()); n != 0 {
				t.Errorf("%d editMessageText calls refused", n)
			}
			// The next correction (of the corrected message: the core
			// passes the correction's remote id) reaches the same messages.
			again := corr
			again.ID, again.Replaces = "3", got
			if got2, err := tr.Send(ctx, again); err != nil || got2 != got {
				t.Errorf("the same correction again: %q, %v; want %q (unchanged)", got2, err, got)
			}
			if s := shows(fake, 111); !slices.Equal(s, tt.want) {
				t.Errorf("after the same correction again the chat shows %q, want %q", s, tt.want)
			}
		})
	}
}

// A photo sent before the transport recorded which messages carry files
// (or whose record expired) is found out by Telegram's refusal of
// editMessageText: its caption is changed instead.
func TestCorrectionOfFileNotRecorded(t *testing.T) {
	kv := &memKV{}
	tr, fake := newTest(t, ModePolling, kv)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "1", Body: "a cat", Media: []string{fs.URL + "/up/cat.jpg"}})
	if err != nil {
		t.Fatal(err)
	}
	kv.Set(ctx, mediaKey("111:1"), "") // as before files were recorded
	got, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "2", Body: "a dog", Replaces: id})
	if err != nil || got != "111:1" {
		t.Fatalf("correction = %q, %v", got, err)
	}
	if s, want := shows(fake, 111), []string{"1 photo a dog"}; !slices.Equal(s, want) {
		t.Errorf("the chat shows %q, want %q", s, want)
	}
}

// When the file a correction adds cannot be recorded as one (the state is
// down), the correction fails for now, and its retry records it without
// sending the file again.
func TestCorrectionAddingFileRetried(t *testing.T) {
	kv := &failingKV{}
	tr, fake := newTest(t, ModePolling, kv)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
	ctx := testCtx(t)
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "1", Body: "look"})
	if err != nil {
		t.Fatal(err)
	}
	corr := transports.Outbound{To: "111", ID: "2", Body: "look at this", Media: []string{fs.URL + "/up/cat.jpg"}, Replaces: id}
	kv.failing.Store(true)
	_, err = tr.Send(ctx, corr)
	if pe, _ := err.(*transports.Error); pe == nil || !pe.Temporary() {
		t.Fatalf("correction with the state down: %v, want a temporary error", err)
	}
	kv.failing.Store(false)
	got, err := tr.Send(ctx, corr)
	if err != nil || got != "111:1,2" {
		t.Fatalf("retry = %q, %v", got, err)
	}
	if s, want := shows(fake, 111), []string{"1 text look at this", "2 photo "}; !slices.Equal(s, want) {
		t.Errorf("the chat shows %q, want %q", s, want)
	}
	// The file is known as one: the next correction changes the text.
	if _, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "3", Body: "see", Replaces: got}); err != nil {
		t.Fatal(err)
	}
	if s, want := shows(fake, 111), []string{"1 text see", "2 photo "}; !slices.Equal(s, want) {
		t.Errorf("after the next correction the chat shows %q, want %q", s, want)
	}
}

// forgetFiles removes the transport's records of the files of keys
// (CHAT:ID), as for a message sent before files were recorded, or whose
// records expired while the core still knows the message.
func forgetFiles(ctx context.Context, kv *memKV, keys ...string) {
	for _, k := range keys {
		kv.Set(ctx, mediaKey(k), "")
	}
}

// A file whose record is missing is never taken for a surplus part of the
// text and deleted: Telegram's refusal of editMessageCaption on a text
// tells the surplus texts, which are deleted, from files, which are kept
// (their caption removed: the text is in the text messages) and recorded
// again.
func TestCorrectionKeepsUnrecordedFile(t *testing.T) {
	long := strings.Repeat("word ", 300)    // 1,500 units: more than a caption holds
	longer := strings.Repeat("word ", 1000) // two text messages
	tests := []struct {
		name       string
		first      transports.Outbound // Media "cat" is the test's photo
		forget     []string            // the records lost
		correction transports.Outbound
		wantID     string
		want       []string // what the chat shows after it (see shows)
		recorded   []string // the files recorded after it
	}{
		{name: "long text and photo, corrected by the text alone",
			first: transports.Outbound{Body: long, Media: []string{"cat"}}, forget: []string{"111:2"},
			correction: transports.Outbound{Body: long + "!"},
			wantID:     "111:1,2", want: []string{"1 text (1501 chars)", "2 photo "}, recorded: []string{"111:2"}},
		{name: "long text and photo, corrected short",
			first: transports.Outbound{Body: long, Media: []string{"cat"}}, forget: []string{"111:2"},
			correction: transports.Outbound{Body: "short now"},
			wantID:     "111:1,2", want: []string{"1 text short now", "2 photo "}, recorded: []string{"111:2"}},
		{name: "two texts and photo, corrected to one text",
			first: transports.Outbound{Body: longer, Media: []string{"cat"}}, forget: []string{"111:3"},
			correction: transports.Outbound{Body: "short now"},
			wantID:     "111:1,3", want: []string{"1 text short now", "3 photo "}, recorded: []string{"111:3"}},
		{name: "photo with a caption, the caption removed",
			first: transports.Outbound{Body: "a cat", Media: []string{"cat"}}, forget: []string{"111:1"},
			correction: transports.Outbound{Media: []string{"cat"}},
			wantID:     "111:1", want: []string{"1 photo "}, recorded: []string{"111:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := &memKV{}
			tr, fake := newTest(t, ModePolling, kv)
			fake.AddChat(dm)
			allowLoopback(t, tr)
			fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
			ctx := testCtx(t)
			first, corr := tt.first, tt.correction
			first.To, first.ID, first.Media = "111", "1", catFiles(fs, first.Media)
			id, err := tr.Send(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			forgetFiles(ctx, kv, tt.forget...)
			corr.To, corr.ID, corr.Media, corr.Replaces = "111", "2", catFiles(fs, corr.Media), id
			got, err := tr.Send(ctx, corr)
			if err != nil || got != tt.wantID {
				t.Errorf("correction = %q, %v; want %q", got, err, tt.wantID)
			}
			if s := shows(fake, 111); !slices.Equal(s, tt.want) {
				t.Errorf("the chat shows %q, want %q (deleted: %+v)", s, tt.want, fake.Deleted())
			}
			if n := len(fake.Media()); n != 1 {
				t.Errorf("%d files sent, want the first one only", n)
			}
			for _, k := range tt.recorded {
				if v, _ := kv.Get(ctx, mediaKey(k)); v == "" {
					t.Errorf("%s is not recorded as a file", k)
				}
			}
		})
	}
}

// A correction carrying the file again, of a photo whose record is
// missing, changes the caption and does not send the photo a second time:
// Telegram's refusal of editMessageText finds it a file before the
// correction's files are counted.
func TestCorrectionWithFileOfUnrecordedPhoto(t *testing.T) {
	long := strings.Repeat("word ", 300)
	tests := []struct {
		name              string
		first, correction transports.Outbound // Media "cat" is the test's photo
		forget            string
		wantID            string
		want              []string
	}{
		{name: "a photo with a caption",
			first: transports.Outbound{Body: "a cat", Media: []string{"cat"}}, forget: "111:1",
			correction: transports.Outbound{Body: "a dog", Media: []string{"cat"}},
			wantID:     "111:1", want: []string{"1 photo a dog"}},
		{name: "a long text and its photo",
			first: transports.Outbound{Body: long, Media: []string{"cat"}}, forget: "111:2",
			correction: transports.Outbound{Body: long + "!", Media: []string{"cat"}},
			wantID:     "111:1,2", want: []string{"1 text (1501 chars)", "2 photo "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := &memKV{}
			tr, fake := newTest(t, ModePolling, kv)
			fake.AddChat(dm)
			allowLoopback(t, tr)
			fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
			ctx := testCtx(t)
			first, corr := tt.first, tt.correction
			first.To, first.ID, first.Media = "111", "1", catFiles(fs, first.Media)
			id, err := tr.Send(ctx, first)
			if err != nil {
				t.Fatal(err)
			}
			forgetFiles(ctx, kv, tt.forget)
			corr.To, corr.ID, corr.Media, corr.Replaces = "111", "2", catFiles(fs, corr.Media), id
			for i := range 2 { // the same correction again: nothing more
				corr.ID = strconv.Itoa(2 + i)
				got, err := tr.Send(ctx, corr)
				if err != nil || got != tt.wantID {
					t.Errorf("correction %d = %q, %v; want %q", i+1, got, err, tt.wantID)
				}
				corr.Replaces = got
			}
			if s := shows(fake, 111); !slices.Equal(s, tt.want) {
				t.Errorf("the chat shows %q, want %q", s, tt.want)
			}
			if n := len(fake.Media()); n != 1 {
				t.Errorf("%d files sent, want the first one only: %+v", n, fake.Media())
			}
		})
	}
}

// catFiles is the test's photo once for each of m.
func catFiles(fs *fileServer, m []string) []string {
	var out []string
	for range m {
		out = append(out, fs.URL+"/up/cat.jpg")
	}
	return out
}

// writesKV is a state that notes the keys written.
type writesKV struct {
	memKV
	mu      sync.Mutex
	written []string
}

func (k *writesKV) SetUntil(ctx context.Context, key, value string, expires time.Time) error {
	k.mu.Lock()
	k.written = append(k.written, key)
	k.mu.Unlock()
	return k.memKV.SetUntil(ctx, key, value, expires)
}

// take returns the keys written since the last call, sorted.
func (k *writesKV) take() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	w := k.written
	k.written = nil
	slices.Sort(w)
	return w
}

// Every correction records anew the files and parts of the message it
// reaches, as the core renews its record of the message (14 days from the
// correction): otherwise a file's record, expired while the core still
// knows the message, leaves the file to be taken for text.
func TestCorrectionRefreshesRecords(t *testing.T) {
	kv := &writesKV{}
	tr, fake := newTest(t, ModePolling, kv)
	fake.AddChat(dm)
	allowLoopback(t, tr)
	fs := newFileServer(t, map[string][2]string{"/up/cat.jpg": {"image/jpeg", "JPEGBYTES"}})
	ctx := testCtx(t)
	long := strings.Repeat("word ", 300)
	cat := fs.URL + "/up/cat.jpg"
	id, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "1", Body: long, Media: []string{cat}})
	if err != nil || id != "111:1,2" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	kv.take()
	if got, err := tr.Send(ctx, transports.Outbound{To: "111", ID: "2", Body: long + "!", Replaces: id}); err != nil || got != id {
		t.Fatalf("correction = %q, %v", got, err)
	}
	want := []string{mediaKey("111:2"), partKey("111:1"), partKey("111:2")}
	if got := kv.take(); !slices.Equal(got, want) {
		t.Errorf("the correction wrote %q, want %q", got, want)
	}
	for key, v := range map[string]string{mediaKey("111:2"): urlHash(cat), partKey("111:1"): id, partKey("111:2"): id} {
		if got, _ := kv.Get(ctx, key); got != v {
			t.Errorf("%s = %q, want %q", key, got, v)
		}
	}
}
