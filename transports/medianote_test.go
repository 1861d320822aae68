package transports

import "testing"

// TestTooLargeNote: the note names the file, its size rounded up to a
// tenth of a MB (one byte over a limit is not shown equal to it), the
// limit and where the file is; it follows the message's text on a line
// of its own.
func TestTooLargeNote(t *testing.T) {
	const mb = 1 << 20
	for i, c := range []struct {
		name        string
		size, limit int64
		body, want  string
	}{
		0: {"holiday.mp4", 21 * mb, 20 * mb, "our holiday",
			"our holiday\n[holiday.mp4 (21.0 MB) is not relayed: the gateway can fetch files of up to 20 MB from Telegram]"},
		1: {"huge.bin", 50*mb + 1, 50 * mb, "",
			"[huge.bin (50.1 MB) is not relayed: the gateway can fetch files of up to 50 MB from Telegram]"},
		2: {"file", 1536 * mb, 20 * mb, "a\nb",
			"a\nb\n[file (1536.0 MB) is not relayed: the gateway can fetch files of up to 20 MB from Telegram]"},
	} {
		if got := WithNote(c.body, TooLargeNote(c.name, c.size, c.limit, "Telegram")); got != c.want {
			t.Errorf("%d: %q; want %q", i, got, c.want)
		}
	}
	if got := WithNote("text", ""); got != "text" {
		t.Errorf("no note: %q", got)
	}
}
