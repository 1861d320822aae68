package botfake

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, image.NewRGBA(image.Rect(0, 0, 300, 150))); err != nil {
		t.Fatal(err)
	}
	f, base := start(t)
	photo := f.UserSendsPhoto(group, alice, "look", pngData.Bytes())
	voice := f.UserSendsVoice(dm, alice, []byte("OggS fake opus"))
	doc := f.UserSendsDocument(dm, alice, "", "notes.txt", "text/plain", []byte("notes"))

	if len(photo.Photo) != 2 || photo.Caption != "look" {
		t.Fatalf("photo: %+v", photo)
	}
	small, large := photo.Photo[0], photo.Photo[1]
	if large.Width != 300 || large.Height != 150 || small.Width != 90 || small.Height != 45 || small.FileID == large.FileID {
		t.Errorf("photo sizes: %+v", photo.Photo)
	}
	if voice.Voice == nil || voice.Voice.MimeType != "audio/ogg" || voice.Voice.Duration < 1 {
		t.Errorf("voice: %+v", voice.Voice)
	}

	tests := []struct {
		name, fileID, pathPrefix, pathSuffix, contentType string
		data                                              []byte
	}{
		{"photo thumbnail", small.FileID, "photos/file_", ".jpg", "image/jpeg", pngData.Bytes()},
		{"photo", large.FileID, "photos/file_", ".jpg", "image/jpeg", pngData.Bytes()},
		{"voice", voice.Voice.FileID, "voice/file_", ".oga", "audio/ogg", []byte("OggS fake opus")},
		{"document", doc.Document.FileID, "documents/file_", ".txt", "text/plain", []byte("notes")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := form(t, base, "getFile", "file_id="+tt.fileID)
			var r struct {
				OK     bool `json:"ok"`
				Result File `json:"result"`
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil || status != 200 {
				t.Fatalf("getFile: %d %s", status, body)
			}
			if r.Result.FileID != tt.fileID || r.Result.FileSize != len(tt.data) ||
				!strings.HasPrefix(r.Result.FilePath, tt.pathPrefix) || !strings.HasSuffix(r.Result.FilePath, tt.pathSuffix) {
				t.Errorf("getFile: %s", body)
			}
			resp, err := http.Get(base + "/file/bot" + testToken + "/" + r.Result.FilePath)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !bytes.Equal(got, tt.data) || resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("download: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
			}
		})
	}
}
