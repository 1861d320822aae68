package telegramuser

import (
	"context"
	"log/slog"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// maxFloodWait is the longest FLOOD_WAIT waited out inside a request;
// a longer one is returned (a send is then retried by the core's queue,
// after the wait).
const maxFloodWait = 5 * time.Minute

// floodWait waits out Telegram's FLOOD_WAIT_X and repeats the request. The
// sign-in requests are not repeated: the user is told how long to wait.
type floodWait struct{ log *slog.Logger }

var _ telegram.Middleware = floodWait{}

func (f floodWait) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		for {
			err := next.Invoke(ctx, input, output)
			d, ok := tgerr.AsFloodWait(err)
			if !ok || signIn(input) || d > maxFloodWait {
				return err
			}
			f.log.Info("Telegram asks to wait; waiting", "wait", d)
			if !sleep(ctx, d) {
				return err
			}
		}
	}
}

// signIn reports whether a request is a step of the sign-in.
func signIn(input bin.Encoder) bool {
	switch input.(type) {
	case *tg.AuthSendCodeRequest, *tg.AuthSignInRequest, *tg.AuthCheckPasswordRequest:
		return true
	}
	return false
}
