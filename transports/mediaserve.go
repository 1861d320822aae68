package transports

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Media URLs are served from public_url's origin, so a file sent by anyone
// on a foreign network must never run there as a page: the gateway labels
// it by its bytes (or the provider's type), serves only passive images,
// audio and video inline, and everything else as a download, in a sandbox.

// DefaultMediaTTL is how long a signed media URL works unless media.url_ttl
// says otherwise: long enough for chat history.
const DefaultMediaTTL = 30 * 24 * time.Hour

// MediaSigner signs the paths of the media URLs a transport hands out, with
// an expiry: only paths the gateway signed, unchanged, and not expired are
// served. It is safe for concurrent use.
type MediaSigner struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewMediaSigner returns a signer with key (a secret of the transport's)
// whose signatures last ttl (DefaultMediaTTL if 0), reading the time from
// now (time.Now if nil).
func NewMediaSigner(key []byte, ttl time.Duration, now func() time.Time) *MediaSigner {
	if ttl <= 0 {
		ttl = DefaultMediaTTL
	}
	if now == nil {
		now = time.Now
	}
	return &MediaSigner{key: key, ttl: ttl, now: now}
}

// TTL is how long the signer's signatures last.
func (s *MediaSigner) TTL() time.Duration { return s.ttl }

// Sign returns "<signature>/<expiry>" for a path made of elems (which
// should be every element of the URL's path after the expiry, file name
// included), valid for ttl (the signer's own if 0 or longer).
func (s *MediaSigner) Sign(ttl time.Duration, elems ...string) string {
	if ttl <= 0 || ttl > s.ttl {
		ttl = s.ttl
	}
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	return s.mac(exp, elems) + "/" + exp
}

// Verify reports whether sig is the signature of elems with expiry exp
// (as Sign wrote them), and exp has not passed.
func (s *MediaSigner) Verify(sig, exp string, elems ...string) bool {
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != exp {
		return false
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(exp, elems))) {
		return false
	}
	return s.now().Unix() <= n
}

func (s *MediaSigner) mac(exp string, elems []string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("xmppgw media v2\x00"))
	m.Write([]byte(exp))
	for _, e := range elems {
		m.Write([]byte{0})
		m.Write([]byte(strconv.Itoa(len(e))))
		m.Write([]byte{':'})
		m.Write([]byte(e))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// passiveImages are the image types served inline: not image/svg+xml,
// which runs scripts.
var passiveImages = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/apng": true, "image/gif": true, "image/webp": true,
	"image/bmp": true, "image/avif": true, "image/heic": true, "image/heif": true,
}

// passiveAV are the audio and video types served inline.
var passiveAV = map[string]bool{
	"audio/mpeg": true, "audio/mp3": true, "audio/mp4": true, "audio/x-m4a": true, "audio/aac": true,
	"audio/ogg": true, "audio/opus": true, "audio/wav": true, "audio/wave": true, "audio/x-wav": true,
	"audio/webm": true, "audio/flac": true, "audio/amr": true, "audio/3gpp": true, "audio/3gpp2": true,
	"audio/aiff": true, "audio/x-aiff": true, "audio/basic": true, "audio/midi": true,
	"video/mp4": true, "video/webm": true, "video/ogg": true, "video/3gpp": true, "video/3gpp2": true,
	"video/quicktime": true, "video/mpeg": true, "video/avi": true, "video/x-msvideo": true, "video/x-matroska": true,
}

// PassiveMediaType reports whether ctype (parameters allowed) is an image,
// audio or video type that a browser only displays or plays.
func PassiveMediaType(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && (passiveImages[mt] || passiveAV[mt])
}

// MediaType decides the Content-Type of a served file from its first bytes
// (up to 512) and the types its provider declared, most trusted first; a
// name in a URL has no say. inline is true for a passive image, audio or
// video type; anything else is application/octet-stream, not inline.
//
// The bytes decide when they are recognised; when they are not (plain
// bytes, or text, which is what AMR or 3GPP look like to the sniffer) the
// first passive declared type does.
func MediaType(head []byte, declared ...string) (ctype string, inline bool) {
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	if PassiveMediaType(sniffed) {
		return sniffed, true
	}
	switch sniffed {
	case "application/octet-stream", "text/plain", "application/ogg":
		for _, d := range declared {
			if PassiveMediaType(d) {
				mt, _, _ := mime.ParseMediaType(d)
				return mt, true
			}
		}
		if sniffed == "application/ogg" {
			return "audio/ogg", true // Ogg is audio or video, never a page
		}
	}
	return "application/octet-stream", false
}

// SetMediaHeaders sets the headers every media response carries, errors
// included: no sniffing, and a sandbox with nothing allowed, in case a
// browser opens it as a page.
func SetMediaHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
}

// MediaRequest starts a transport's media handler: it sets the media
// headers and answers 405 to anything but GET and HEAD, naming the
// transport. It reports whether the handler should go on.
func MediaRequest(w http.ResponseWriter, r *http.Request, transport string) bool {
	SetMediaHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, transport+" media: method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

// MediaFile is a file a transport relays to a client (see ServeMedia).
type MediaFile struct {
	Body     io.Reader // the file, read up to Limit bytes
	Size     int64     // its length if known, else -1
	Name     string    // a file name for Content-Disposition, or ""
	Declared []string  // Content-Types the provider gave, most trusted first
	Limit    int64     // the most bytes served
}

// ErrMediaTooLarge is returned by ServeMedia for a file longer than its
// Limit: nothing was written if its Size said so, else the body was cut
// (and the error also wraps ErrMediaCut).
var ErrMediaTooLarge = errors.New("media file too large")

// ErrMediaCut is wrapped by ServeMedia's error when the answer was already
// under way (status and headers sent) and the file could not be sent
// whole: the file failed, ran past its Limit or its Size, or ended short
// of its Size, or the client went away. The handler must then end with
// AbortMedia, so that the client sees a failed transfer, not a short
// file that looks complete.
var ErrMediaCut = errors.New("media file cut short")

// AbortMedia ends a media handler whose answer ServeMedia cut short (err
// wraps ErrMediaCut) by panicking with http.ErrAbortHandler: net/http then
// breaks the connection (HTTP/1) or resets the stream (HTTP/2) without
// ending the body, and logs nothing. Call it last, after cleaning up and
// logging; for any other err it does nothing.
func AbortMedia(err error) {
	if errors.Is(err, ErrMediaCut) {
		panic(http.ErrAbortHandler)
	}
}

// ServeMedia writes f as the answer to r (GET or HEAD): the Content-Type
// chosen by MediaType, Content-Disposition inline for passive types and
// attachment for the rest, the headers of SetMediaHeaders, Content-Length
// if f.Size is known, and the body. A file whose Size exceeds its Limit
// gets 413 and nothing else. Once the body is under way, a failure wraps
// ErrMediaCut: see AbortMedia.
func ServeMedia(w http.ResponseWriter, r *http.Request, f MediaFile) error {
	h := w.Header()
	SetMediaHeaders(h)
	if f.Size > f.Limit {
		http.Error(w, "media: file too large", http.StatusRequestEntityTooLarge)
		return ErrMediaTooLarge
	}
	br := bufio.NewReaderSize(f.Body, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		http.Error(w, "media: the file cannot be fetched", http.StatusBadGateway)
		return err
	}
	ctype, inline := MediaType(head, f.Declared...)
	disp := "attachment"
	if inline {
		disp = "inline"
	}
	if name := cleanName(f.Name); name != "" {
		if v := mime.FormatMediaType(disp, map[string]string{"filename": name}); v != "" {
			disp = v
		}
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", disp)
	h.Set("Cache-Control", "private, max-age=86400")
	if f.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	}
	if r.Method == http.MethodHead {
		return nil
	}
	// The server's write timeout bounds a webhook's answer; a file of tens
	// of megabytes to a slow client takes longer. Each write gets
	// mediaIdle: a client that stops reading is let go that much later,
	// one that reads slowly is served (up to the handler's own bound).
	limit := f.Limit
	if f.Size >= 0 {
		limit = f.Size
	}
	n, err := io.Copy(progressWriter{w, http.NewResponseController(w)}, io.LimitReader(br, limit))
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", ErrMediaCut, err)
	case f.Size >= 0 && n < f.Size:
		return fmt.Errorf("%w: the file ended after %d of its %d bytes", ErrMediaCut, n, f.Size)
	}
	if _, err := br.ReadByte(); err == nil {
		if f.Size >= 0 {
			return fmt.Errorf("%w: the file is longer than its %d bytes", ErrMediaCut, f.Size)
		}
		return fmt.Errorf("%w: %w", ErrMediaCut, ErrMediaTooLarge) // the client got the first Limit bytes
	}
	return nil
}

// MediaWriteTimeout bounds sending one medium to a client: 50 MB at about
// 60 KB/s.
const MediaWriteTimeout = 15 * time.Minute

// mediaIdle is how long one write of a medium may take.
const mediaIdle = 30 * time.Second

// progressWriter moves the write deadline on before each write.
type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (p progressWriter) Write(b []byte) (int, error) {
	p.rc.SetWriteDeadline(time.Now().Add(mediaIdle))
	return p.w.Write(b)
}

// cleanName keeps a file name fit for a header: its last path element.
func cleanName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	return s
}
