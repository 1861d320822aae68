package transports

import (
	"math"
	"strconv"
)

// TooLargeNote is what a message's body says, in place of a link, of a
// file the gateway does not relay because its size (in bytes) is over
// limit, what the gateway can fetch from source: "[holiday.mp4 (21.0 MB)
// is not relayed: the gateway can fetch files of up to 20 MB from
// Telegram]". A link would only ever answer 413.
func TooLargeNote(name string, size, limit int64, source string) string {
	return "[" + name + " (" + megabytes(size) + ") is not relayed: the gateway can fetch files of up to " +
		strconv.FormatInt(limit>>20, 10) + " MB from " + source + "]"
}

// WithNote is body with note on a line of its own after it: note alone if
// body is empty, body alone if note is.
func WithNote(body, note string) string {
	switch {
	case note == "":
		return body
	case body == "":
		return note
	}
	return body + "\n" + note
}

// megabytes writes n bytes in MB, rounded up to a tenth (a file just
// over a limit does not look equal to it).
func megabytes(n int64) string {
	return strconv.FormatFloat(math.Ceil(float64(n)*10/(1<<20))/10, 'f', 1, 64) + " MB"
}
