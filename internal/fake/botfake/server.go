package botfake

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

const maxRequestBytes = 64 << 20

// apiError is a failed Bot API call.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
	MigrateTo   int64
}

var (
	errUnauthorized = &apiError{Code: http.StatusUnauthorized, Description: "Unauthorized"}
	errNotFound     = &apiError{Code: http.StatusNotFound, Description: "Not Found"}
)

func badRequest(what string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Description: "Bad Request: " + what}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{Code: http.StatusTooManyRequests, RetryAfter: retryAfter,
		Description: "Too Many Requests: retry after " + strconv.Itoa(retryAfter)}
}

// response is the envelope of every answer.
type response struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Description string              `json:"description,omitempty"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type responseParameters struct {
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
	RetryAfter      int   `json:"retry_after,omitempty"`
}

// described is a result that Telegram answers with a description too,
// like setWebhook's "Webhook was set".
type described struct {
	result      any
	description string
}

// handler is one Bot API method.
type handler func(f *Fake, r *http.Request, p params) (any, *apiError)

// methods maps lower-case method names to their handlers.
var methods = map[string]handler{
	"getme":                (*Fake).getMe,
	"getupdates":           (*Fake).getUpdates,
	"sendmessage":          (*Fake).sendMessage,
	"editmessagetext":      (*Fake).editMessageText,
	"deletemessage":        (*Fake).deleteMessage,
	"sendchataction":       (*Fake).sendChatAction,
	"getfile":              (*Fake).getFile,
	"getchat":              (*Fake).getChat,
	"getchatmember":        (*Fake).getChatMember,
	"setwebhook":           (*Fake).setWebhook,
	"deletewebhook":        (*Fake).deleteWebhook,
	"getwebhookinfo":       (*Fake).getWebhookInfo,
	"setmessagereaction":   (*Fake).setMessageReaction,
	"getuserprofilephotos": (*Fake).getUserProfilePhotos,
}

// Handler returns the fake's HTTP interface: /bot<TOKEN>/<method> and
// /file/bot<TOKEN>/<file_path>.
func (f *Fake) Handler() http.Handler { return http.HandlerFunc(f.serveHTTP) }

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case strings.HasPrefix(path, "/file/bot"):
		f.serveFile(w, r, strings.TrimPrefix(path, "/file/bot"))
	case strings.HasPrefix(path, "/bot"):
		f.serveMethod(w, r, strings.TrimPrefix(path, "/bot"))
	default:
		writeError(w, errNotFound)
	}
}

func (f *Fake) tokenOK(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(f.token)) == 1
}

func (f *Fake) serveMethod(w http.ResponseWriter, r *http.Request, rest string) {
	token, method, _ := strings.Cut(rest, "/")
	if !f.tokenOK(token) {
		writeError(w, errUnauthorized)
		return
	}
	name := strings.ToLower(method)
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	p, perr := readParams(r)
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}

	f.mu.Lock()
	f.calls[name]++
	f.notifyLocked()
	h, known := methods[name]
	var fault *apiError
	if known {
		fault = f.faultLocked(name)
	}
	f.mu.Unlock()

	var (
		result any
		e      *apiError
	)
	switch {
	case !known:
		e = errNotFound
	case fault != nil:
		e = fault
	case perr != nil:
		e = perr
	default:
		result, e = h(f, r, p)
	}
	if e != nil {
		if e.Code == http.StatusTooManyRequests {
			f.mu.Lock()
			f.n429++
			f.notifyLocked()
			f.mu.Unlock()
		}
		writeError(w, e)
		return
	}
	resp := response{OK: true, Result: result}
	if d, ok := result.(described); ok {
		resp.Result, resp.Description = d.result, d.description
	}
	writeJSON(w, http.StatusOK, resp)
}

func writeError(w http.ResponseWriter, e *apiError) {
	resp := response{ErrorCode: e.Code, Description: e.Description}
	if e.RetryAfter > 0 || e.MigrateTo != 0 {
		resp.Parameters = &responseParameters{MigrateToChatID: e.MigrateTo, RetryAfter: e.RetryAfter}
	}
	writeJSON(w, e.Code, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshal encodes like Telegram: no HTML escaping, no trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// params are a call's parameters as strings, the way Telegram sees them
// whichever encoding the client used.
type params map[string]string

// int returns an integer parameter; ok is false if it is absent or bad.
func (p params) int(key string) (n int, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(p[key]))
	return n, err == nil
}

func (p params) bool(key string) bool {
	switch strings.ToLower(strings.TrimSpace(p[key])) {
	case "true", "1":
		return true
	}
	return false
}

// readParams collects the query string and a form-urlencoded, multipart
// or JSON body.
func readParams(r *http.Request) (params, *apiError) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return p, badRequest("can't read request body")
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return p, badRequest("can't parse JSON object")
		}
		for k, raw := range obj {
			var s string
			switch {
			case bytes.Equal(raw, []byte("null")):
				continue
			case json.Unmarshal(raw, &s) == nil:
				p[k] = s
			default: // numbers, booleans, arrays and objects as written
				p[k] = string(raw)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return p, badRequest("can't parse multipart/form-data request")
		}
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return p, badRequest("can't parse application/x-www-form-urlencoded request")
		}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	}
	return p, nil
}
