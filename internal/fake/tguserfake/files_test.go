package tguserfake

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"reflect"
	"testing"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/uploader"
	"github.com/gotd/td/tg"
)

// testJPEG is a small JPEG image of w×h.
func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{R: uint8(x * 10), G: uint8(y * 10), B: 200, A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// download fetches a file location through upload.getFile.
func download(t *testing.T, cl *client, loc tg.InputFileLocationClass) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := downloader.NewDownloader().Download(cl.api, loc).Stream(cl.ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSendMedia(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b := s.AddUser(ann), s.AddUser(bob)
	cl := loggedIn(t, s, a)

	// Big enough for several parts.
	data := bytes.Repeat([]byte("tguserfake document "), 40000)
	f, err := uploader.NewUploader(cl.api).WithPartSize(128*1024).FromBytes(cl.ctx, "notes.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.api.MessagesSendMedia(cl.ctx, &tg.MessagesSendMediaRequest{
		Peer: &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash},
		Media: &tg.InputMediaUploadedDocument{
			File: f, MimeType: "text/plain",
			Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "notes.txt"}},
		},
		Message:  "see attached",
		RandomID: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := res.(*tg.Updates).Updates[1].(*tg.UpdateNewMessage).Message.(*tg.Message)
	doc := msg.Media.(*tg.MessageMediaDocument).Document.(*tg.Document)
	if msg.Message != "see attached" || doc.MimeType != "text/plain" || doc.Size != int64(len(data)) {
		t.Fatalf("sent media = %+v / %+v", msg, doc)
	}
	sent := s.Sent(a.ID)
	if len(sent) != 1 || sent[0].Media == nil ||
		!reflect.DeepEqual(*sent[0].Media, File{Name: "notes.txt", MIME: "text/plain", Data: data}) || sent[0].Text != "see attached" {
		t.Fatalf("Sent = %+v", sent)
	}
	got := download(t, cl, &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference})
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, want %d", len(got), len(data))
	}

	// A part that never came.
	_, err = cl.api.MessagesSendMedia(cl.ctx, &tg.MessagesSendMediaRequest{
		Peer:     &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash},
		Media:    &tg.InputMediaUploadedPhoto{File: &tg.InputFile{ID: 12345, Parts: 1, Name: "x.jpg"}},
		RandomID: 6,
	})
	wantRPCError(t, err, 400, "FILE_PARTS_INVALID")
}

func TestDownloadPhotos(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	face := testJPEG(t, 16, 12)
	u := bob
	u.Photo = face
	a, b := s.AddUser(ann), s.AddUser(u)
	cl := loggedIn(t, s, a)

	users, err := cl.api.UsersGetUsers(cl.ctx, []tg.InputUserClass{&tg.InputUser{UserID: b.ID, AccessHash: b.AccessHash}})
	if err != nil {
		t.Fatal(err)
	}
	ph := users[0].(*tg.User).Photo.(*tg.UserProfilePhoto)
	got := download(t, cl, &tg.InputPeerPhotoFileLocation{
		Peer: &tg.InputPeerUser{UserID: b.ID, AccessHash: b.AccessHash}, PhotoID: ph.PhotoID, Big: true,
	})
	if !bytes.Equal(got, face) {
		t.Fatal("profile photo differs")
	}

	pic := testJPEG(t, 20, 10)
	m := s.PostMedia(b.ID, Peer{User: a.ID}, "look", File{Name: "pic.jpg", MIME: "image/jpeg", Data: pic})
	nm, _ := next[*tg.UpdateNewMessage](cl.ctx, t, cl.in)
	msg := nm.Message.(*tg.Message)
	photo := msg.Media.(*tg.MessageMediaPhoto).Photo.(*tg.Photo)
	size := photo.Sizes[0].(*tg.PhotoSize)
	if msg.ID != m.ID || msg.Message != "look" || size.W != 20 || size.H != 10 || size.Size != len(pic) {
		t.Fatalf("photo message = %+v / %+v", msg, size)
	}
	got = download(t, cl, &tg.InputPhotoFileLocation{
		ID: photo.ID, AccessHash: photo.AccessHash, FileReference: photo.FileReference, ThumbSize: size.Type,
	})
	if !bytes.Equal(got, pic) {
		t.Fatal("photo differs")
	}
	_, err = cl.api.UploadGetFile(cl.ctx, &tg.UploadGetFileRequest{
		Location: &tg.InputPhotoFileLocation{ID: photo.ID, AccessHash: photo.AccessHash + 1}, Limit: 1024,
	})
	wantRPCError(t, err, 400, "LOCATION_INVALID")
}
