package tguserfake

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // photo sizes
	_ "image/png"
	"slices"
	"strings"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

const (
	// maxPartSize is the largest upload part (512 KiB).
	maxPartSize = 512 << 10
	// maxParts is the most parts a file may have.
	maxParts = 4000
	// maxDownloadLimit is the largest upload.getFile limit (1 MiB).
	maxDownloadLimit = 1 << 20
)

// uploadKey is a file being uploaded by a user.
type uploadKey struct {
	user int64
	id   int64
}

// upload is the parts received so far.
type upload struct {
	parts map[int][]byte
	total int // from saveBigFilePart, 0 if unknown
}

// newMedia stores a photo or document. The caller holds s.mu.
func (s *Server) newMedia(photo bool, name, mime string, data []byte) *media {
	md := &media{
		id: s.nextMedia, accessHash: randInt63(), fileRef: randBytes(16),
		photo: photo, name: name, mime: mime, data: slices.Clone(data), date: time.Now(),
	}
	s.nextMedia++
	if photo {
		md.w, md.h = 100, 100
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
			md.w, md.h = cfg.Width, cfg.Height
		}
	}
	s.media[md.id] = md
	return md
}

// renderPhoto is md as a tg.Photo with one size, "x", the whole file.
func renderPhoto(md *media) *tg.Photo {
	return &tg.Photo{
		ID: md.id, AccessHash: md.accessHash, FileReference: slices.Clone(md.fileRef),
		Date: int(md.date.Unix()), DCID: dcID,
		Sizes: []tg.PhotoSizeClass{&tg.PhotoSize{Type: "x", W: md.w, H: md.h, Size: len(md.data)}},
	}
}

// renderMedia is md as message media.
func renderMedia(md *media) tg.MessageMediaClass {
	if md.photo {
		return &tg.MessageMediaPhoto{Photo: renderPhoto(md)}
	}
	return &tg.MessageMediaDocument{Document: &tg.Document{
		ID: md.id, AccessHash: md.accessHash, FileReference: slices.Clone(md.fileRef),
		Date: int(md.date.Unix()), MimeType: md.mime, Size: int64(len(md.data)), DCID: dcID,
		Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: md.name}},
	}}
}

// PostMedia is Post with a file: a photo if its MIME type is image/jpeg or
// image/png, else a document. Either is downloadable with upload.getFile.
func (s *Server) PostMedia(from int64, to Peer, caption string, f File) Message {
	s.mu.Lock()
	md := s.newMedia(isPhoto(f.MIME), f.Name, f.MIME, f.Data)
	s.mu.Unlock()
	return s.postAs(from, to, caption, 0, md)
}

func isPhoto(mime string) bool { return mime == "image/jpeg" || mime == "image/png" }

// savePart stores one uploaded part.
func (s *Server) savePart(c *call, fileID int64, part, total int, data []byte) (bin.Encoder, error) {
	switch {
	case part < 0 || part >= maxParts || (total > 0 && part >= total):
		return nil, tgerr.New(400, "FILE_PART_INVALID")
	case len(data) == 0:
		return nil, tgerr.New(400, "FILE_PART_EMPTY")
	case len(data) > maxPartSize:
		return nil, tgerr.New(400, "FILE_PART_TOO_BIG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := c.account(); err != nil {
		return nil, err
	}
	k := uploadKey{user: c.user, id: fileID}
	u := s.uploads[k]
	if u == nil {
		u = &upload{parts: map[int][]byte{}}
		s.uploads[k] = u
	}
	u.parts[part] = slices.Clone(data)
	if total > 0 {
		u.total = total
	}
	return &tg.BoolTrue{}, nil
}

// uploadSaveFilePart answers upload.saveFilePart.
func (s *Server) uploadSaveFilePart(c *call) (bin.Encoder, error) {
	r, err := decode[tg.UploadSaveFilePartRequest](c)
	if err != nil {
		return nil, err
	}
	return s.savePart(c, r.FileID, r.FilePart, 0, r.Bytes)
}

// uploadSaveBigFilePart answers upload.saveBigFilePart.
func (s *Server) uploadSaveBigFilePart(c *call) (bin.Encoder, error) {
	r, err := decode[tg.UploadSaveBigFilePartRequest](c)
	if err != nil {
		return nil, err
	}
	if r.FileTotalParts <= 0 || r.FileTotalParts > maxParts {
		return nil, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	return s.savePart(c, r.FileID, r.FilePart, r.FileTotalParts, r.Bytes)
}

// takeUpload assembles and forgets an uploaded file. The caller holds s.mu.
func (s *Server) takeUpload(user int64, in tg.InputFileClass) (name string, data []byte, err error) {
	var id int64
	var parts int
	switch f := in.(type) {
	case *tg.InputFile:
		id, parts, name = f.ID, f.Parts, f.Name
	case *tg.InputFileBig:
		id, parts, name = f.ID, f.Parts, f.Name
	default:
		return "", nil, tgerr.New(400, "FILE_ID_INVALID")
	}
	k := uploadKey{user: user, id: id}
	u := s.uploads[k]
	if u == nil || parts <= 0 {
		return "", nil, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	var buf bytes.Buffer
	for i := 0; i < parts; i++ {
		p, ok := u.parts[i]
		if !ok {
			return "", nil, tgerr.New(400, fmt.Sprintf("FILE_PART_%d_MISSING", i))
		}
		buf.Write(p)
	}
	delete(s.uploads, k)
	return name, buf.Bytes(), nil
}

// inputMedia turns sendMedia's media into stored media. The caller holds s.mu.
func (s *Server) inputMedia(user int64, in tg.InputMediaClass) (*media, error) {
	switch m := in.(type) {
	case *tg.InputMediaUploadedPhoto:
		name, data, err := s.takeUpload(user, m.File)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = "photo.jpg"
		}
		return s.newMedia(true, name, "image/jpeg", data), nil
	case *tg.InputMediaUploadedDocument:
		name, data, err := s.takeUpload(user, m.File)
		if err != nil {
			return nil, err
		}
		for _, a := range m.Attributes {
			if a, ok := a.(*tg.DocumentAttributeFilename); ok && a.FileName != "" {
				name = a.FileName
			}
		}
		mime := m.MimeType
		if mime == "" {
			mime = "application/octet-stream"
		}
		return s.newMedia(false, name, mime, data), nil
	case *tg.InputMediaPhoto:
		if p, ok := m.ID.(*tg.InputPhoto); ok {
			if md := s.media[p.ID]; md != nil && md.photo && md.accessHash == p.AccessHash {
				return md, nil
			}
		}
		return nil, tgerr.New(400, "MEDIA_INVALID")
	case *tg.InputMediaDocument:
		if d, ok := m.ID.(*tg.InputDocument); ok {
			if md := s.media[d.ID]; md != nil && !md.photo && md.accessHash == d.AccessHash {
				return md, nil
			}
		}
		return nil, tgerr.New(400, "MEDIA_INVALID")
	}
	return nil, tgerr.New(400, "MEDIA_INVALID")
}

// messagesSendMedia answers messages.sendMedia with uploaded (or already
// stored) photos and documents. random_id is deduplicated like sendMessage.
func (s *Server) messagesSendMedia(c *call) (bin.Encoder, error) {
	r, err := decode[tg.MessagesSendMediaRequest](c)
	if err != nil {
		return nil, err
	}
	if isChannelInput(r.Peer) {
		return s.sendToChannel(c, r.Peer, r.RandomID, r.Message, true, replyToID(r.ReplyTo), r.Media)
	}
	var (
		res    bin.Encoder
		rpcErr error
	)
	s.change(func(t *tx) {
		me, err := c.account()
		if err != nil {
			rpcErr = err
			return
		}
		if id, ok := me.randomIDs[r.RandomID]; ok {
			res = s.sentUpdates(me, s.message(id))
			return
		}
		peer, err := s.inputPeer(me.ID, r.Peer)
		if err != nil {
			rpcErr = err
			return
		}
		if err := checkText(r.Message, true); err != nil {
			rpcErr = err
			return
		}
		md, err := s.inputMedia(me.ID, r.Media)
		if err != nil {
			rpcErr = err
			return
		}
		m, err := t.post(me.ID, peer, r.Message, replyToID(r.ReplyTo), md, c, r.RandomID)
		if err != nil {
			rpcErr = err
			return
		}
		res = s.sentUpdates(me, m)
	})
	return res, rpcErr
}

// fileLocation finds the media a download location points at.
// The caller holds s.mu.
func (s *Server) fileLocation(viewer int64, loc tg.InputFileLocationClass) (*media, error) {
	switch l := loc.(type) {
	case *tg.InputPhotoFileLocation:
		if md := s.media[l.ID]; md != nil && md.photo && md.accessHash == l.AccessHash {
			return md, nil
		}
	case *tg.InputDocumentFileLocation:
		if md := s.media[l.ID]; md != nil && !md.photo && md.accessHash == l.AccessHash {
			return md, nil
		}
	case *tg.InputPeerPhotoFileLocation:
		p, err := s.inputPeer(viewer, l.Peer)
		if err != nil {
			return nil, err
		}
		if a := s.users[p.User]; a != nil && a.photo != nil && a.photo.id == l.PhotoID {
			return a.photo, nil
		}
	}
	return nil, tgerr.New(400, "LOCATION_INVALID")
}

// uploadGetFile answers upload.getFile for message media (of any chat,
// channels included) and profile photos (any thumb size serves the whole
// file).
func (s *Server) uploadGetFile(c *call) (bin.Encoder, error) {
	r, err := decode[tg.UploadGetFileRequest](c)
	if err != nil {
		return nil, err
	}
	if r.Offset < 0 {
		return nil, tgerr.New(400, "OFFSET_INVALID")
	}
	if r.Limit <= 0 || r.Limit > maxDownloadLimit {
		return nil, tgerr.New(400, "LIMIT_INVALID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := c.account(); err != nil {
		return nil, err
	}
	md, err := s.fileLocation(c.user, r.Location)
	if err != nil {
		return nil, err
	}
	var chunk []byte
	if r.Offset < int64(len(md.data)) {
		chunk = slices.Clone(md.data[r.Offset:min(r.Offset+int64(r.Limit), int64(len(md.data)))])
	}
	var typ tg.StorageFileTypeClass = &tg.StorageFilePartial{}
	switch {
	case strings.HasPrefix(md.mime, "image/jpeg"):
		typ = &tg.StorageFileJpeg{}
	case strings.HasPrefix(md.mime, "image/png"):
		typ = &tg.StorageFilePng{}
	}
	return &tg.UploadFile{Type: typ, Mtime: int(md.date.Unix()), Bytes: chunk}, nil
}
