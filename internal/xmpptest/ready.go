package xmpptest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// WaitReady polls url (a gateway's /readyz) until it answers 200, exited
// reports that the process ended (nil: not watched), or ctx is done.
func WaitReady(ctx context.Context, url string, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %d", url, resp.StatusCode)
		}
		select {
		case xerr := <-exited:
			return fmt.Errorf("gateway exited: %v", xerr)
		case <-ctx.Done():
			return fmt.Errorf("gateway not ready (%v): %w", err, ctx.Err())
		case <-time.After(2 * time.Millisecond): // fine enough to time a start
		}
	}
}
