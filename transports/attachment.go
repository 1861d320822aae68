package transports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
)

// Attachment is an attachment a user sent, as the gateway fetches it to
// upload it to a provider.
type Attachment struct {
	Body io.ReadCloser // the caller closes it
	Type string        // the Content-Type the server answered, or ""
	Name string        // the URL path's last element, or ""
	Size int64         // -1 if the server did not say
}

// FetchAttachment fetches rawURL with client, whose transport must be
// policy's (which checks every connection again), once policy allows its
// address. A failure is a *Error for provider: an address the policy
// refuses is AttachmentNotAllowed; a URL that is not http(s), an HTTP
// error or a declared size over limit is KindRejected; a 5xx, a 429 or no
// answer is KindUnavailable, NotSent (nothing went to the provider). No text names the address; log gets the
// details, without the URL (it may carry a secret).
func FetchAttachment(ctx context.Context, policy *FetchPolicy, client *http.Client, rawURL, provider string, limit int64, log *slog.Logger) (*Attachment, *Error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Kind: KindRejected, Provider: provider, Message: "an attachment's URL is not an http or https URL"}
	}
	failed := func(err error) *Error {
		if errors.Is(err, ErrNotAllowed) {
			log.Warn("attachment refused: its address is not allowed", "host", u.Host, "err", urlFree(err))
			return AttachmentNotAllowed(provider)
		}
		log.Warn("fetching an attachment failed", "host", u.Host, "err", urlFree(err))
		return &Error{Kind: KindUnavailable, Provider: provider, Message: "the attachment could not be fetched", NotSent: true}
	}
	if err := policy.Check(ctx, rawURL); err != nil {
		return nil, failed(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &Error{Kind: KindRejected, Provider: provider, Message: "bad attachment URL"}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, failed(err)
	}
	var e *Error
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		e = &Error{Kind: KindUnavailable, Provider: provider, Message: fmt.Sprintf("fetching the attachment: HTTP %d", resp.StatusCode), NotSent: true}
	case resp.StatusCode != http.StatusOK:
		e = &Error{Kind: KindRejected, Provider: provider, Message: fmt.Sprintf("fetching the attachment: HTTP %d", resp.StatusCode)}
	case resp.ContentLength > limit:
		e = AttachmentTooLarge(provider, limit)
	}
	if e != nil {
		resp.Body.Close()
		return nil, e
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = ""
	}
	return &Attachment{Body: resp.Body, Type: resp.Header.Get("Content-Type"), Name: name, Size: resp.ContentLength}, nil
}

// AttachmentTooLarge is the refusal of an attachment over limit bytes.
func AttachmentTooLarge(provider string, limit int64) *Error {
	return &Error{Kind: KindRejected, Provider: provider, Message: fmt.Sprintf("the attachment is larger than %d MB", limit>>20)}
}

// urlFree is err's text without the URL, which may carry a secret.
func urlFree(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
