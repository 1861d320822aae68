package botfake

import (
	"net/http"
	"strconv"
	"strings"
)

// SetProfilePhoto gives user userID a profile photo (a JPEG or PNG), as
// getUserProfilePhotos returns it.
func (f *Fake) SetProfilePhoto(userID int64, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.avatars == nil {
		f.avatars = map[int64]File{}
	}
	f.avatars[userID] = f.addFileLocked("AgAC", "profile_photos", ".jpg", "image/jpeg", data)
}

// getUserProfilePhotos takes user_id (offset and limit are accepted); a
// user has at most the one photo SetProfilePhoto gave, in one size.
func (f *Fake) getUserProfilePhotos(_ *http.Request, p params) (any, *apiError) {
	raw := strings.TrimSpace(p["user_id"])
	if raw == "" {
		return nil, badRequest("user_id is empty")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, badRequest("invalid user_id specified")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	type result struct {
		TotalCount int           `json:"total_count"`
		Photos     [][]PhotoSize `json:"photos"`
	}
	file, ok := f.avatars[id]
	if !ok {
		return result{Photos: [][]PhotoSize{}}, nil
	}
	return result{TotalCount: 1, Photos: [][]PhotoSize{{{
		FileID: file.FileID, FileUniqueID: file.FileUniqueID, Width: 640, Height: 640, FileSize: file.FileSize,
	}}}}, nil
}
