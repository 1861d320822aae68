package botfake

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // photo dimensions
	_ "image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

const (
	maxDownloadBytes = 20 << 20 // what getFile will hand out
	thumbSide        = 90
)

// storedFile is a file users sent, downloadable by the bot.
type storedFile struct {
	File
	mimeType string
	data     []byte
}

// addFileLocked stores data under dir/file_N.ext and returns its File.
func (f *Fake) addFileLocked(idPrefix, dir, ext, mimeType string, data []byte) File {
	n := f.nextFile
	f.nextFile++
	sf := &storedFile{
		File: File{
			FileID:       fmt.Sprintf("%sAAxkBAAI%06dFAKE", idPrefix, n),
			FileUniqueID: fmt.Sprintf("AQAD%06d", n),
			FileSize:     len(data),
			FilePath:     dir + "/file_" + strconv.Itoa(n) + ext,
		},
		mimeType: mimeType,
		data:     append([]byte(nil), data...),
	}
	f.files[sf.FileID] = sf
	f.paths[sf.FilePath] = sf
	return sf.File
}

// UserSendsPhoto delivers a photo with a caption. The message carries two
// sizes, a thumbnail and the full size (last); both serve data. Width and
// height are read from data if it is a JPEG, PNG or GIF.
func (f *Fake) UserSendsPhoto(c Chat, from User, caption string, data []byte) Message {
	w, h := 800, 600
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width > 0 && cfg.Height > 0 {
		w, h = cfg.Width, cfg.Height
	}
	tw, th := w, h
	if side := max(w, h); side > thumbSide {
		tw, th = max(w*thumbSide/side, 1), max(h*thumbSide/side, 1)
	}
	return f.userMessage(c, from, func(m *Message) {
		small := f.addFileLocked("AgACAgIA", "photos", ".jpg", "image/jpeg", data)
		large := f.addFileLocked("AgACAgIA", "photos", ".jpg", "image/jpeg", data)
		m.Caption = caption
		m.Photo = []PhotoSize{
			{FileID: small.FileID, FileUniqueID: small.FileUniqueID, Width: tw, Height: th, FileSize: small.FileSize},
			{FileID: large.FileID, FileUniqueID: large.FileUniqueID, Width: w, Height: h, FileSize: large.FileSize},
		}
	})
}

// UserSendsDocument delivers a file with a caption. An empty mimeType is
// guessed from fileName's extension.
func (f *Fake) UserSendsDocument(c Chat, from User, caption, fileName, mimeType string, data []byte) Message {
	ext := strings.ToLower(path.Ext(fileName))
	if mimeType == "" {
		mimeType, _, _ = strings.Cut(mime.TypeByExtension(ext), ";")
	}
	return f.userMessage(c, from, func(m *Message) {
		file := f.addFileLocked("BQACAgIA", "documents", ext, mimeType, data)
		m.Caption = caption
		m.Document = &Document{FileID: file.FileID, FileUniqueID: file.FileUniqueID,
			FileName: fileName, MimeType: mimeType, FileSize: file.FileSize}
	})
}

// UserSendsVoice delivers a voice note (audio/ogg). Its duration is
// estimated from the size, at 32 kbit/s.
func (f *Fake) UserSendsVoice(c Chat, from User, data []byte) Message {
	return f.userMessage(c, from, func(m *Message) {
		file := f.addFileLocked("AwACAgIA", "voice", ".oga", "audio/ogg", data)
		m.Voice = &Voice{FileID: file.FileID, FileUniqueID: file.FileUniqueID,
			Duration: max(len(data)/4000, 1), MimeType: "audio/ogg", FileSize: file.FileSize}
	})
}

func (f *Fake) getFile(_ *http.Request, p params) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sf := f.files[strings.TrimSpace(p["file_id"])]
	if sf == nil {
		return nil, badRequest("invalid file_id")
	}
	if sf.FileSize > maxDownloadBytes {
		return nil, badRequest("file is too big")
	}
	return sf.File, nil
}

// serveFile answers GET /file/bot<TOKEN>/<file_path>.
func (f *Fake) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	if !f.tokenOK(token) {
		writeError(w, errUnauthorized)
		return
	}
	f.mu.Lock()
	sf := f.paths[filePath]
	f.mu.Unlock()
	if sf == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		writeError(w, errNotFound)
		return
	}
	ct := sf.mimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(sf.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(sf.data)
	}
}
