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
// a longer one is returned (the follower waits it out itself). A send's
// is always returned at once (noFloodWait): see Send.
const maxFloodWait = 5 * time.Minute

// floodWait waits out Telegram's FLOOD_WAIT_X and repeats the request,
// unless the wait would outlast the request's deadline: the error is then
// returned at once, for the caller to wait. A limit set with perAttempt
// bounds each attempt, not the waits between them. The sign-in requests
// are not repeated: the user is told how long to wait.
type floodWait struct{ log *slog.Logger }

var _ telegram.Middleware = floodWait{}

func (f floodWait) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		limit, _ := ctx.Value(attemptKey{}).(time.Duration)
		for {
			actx, cancel := ctx, context.CancelFunc(func() {})
			if limit > 0 {
				actx, cancel = context.WithTimeout(ctx, limit)
			}
			err := next.Invoke(actx, input, output)
			cancel()
			d, ok := tgerr.AsFloodWait(err)
			if !ok || d <= 0 || signIn(input) || d > maxFloodWait || ctx.Value(noWaitKey{}) != nil {
				return err
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
				return err
			}
			f.log.Info("Telegram asks to wait; waiting", "wait", d)
			if !sleep(ctx, d) {
				return err
			}
		}
	}
}

// noWaitKey marks a context whose requests return a FLOOD_WAIT at once
// (noFloodWait).
type noWaitKey struct{}

// noFloodWait makes the requests made with the returned context return a
// FLOOD_WAIT at once: their caller defers the work instead of waiting.
func noFloodWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, noWaitKey{}, true)
}

// attemptKey is the context key of perAttempt's limit.
type attemptKey struct{}

// perAttempt bounds each attempt of the requests made with the returned
// context to d: a request in flight when the connection is cut gets no
// answer on the new one. A FLOOD_WAIT between attempts is not counted.
func perAttempt(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, attemptKey{}, d)
}

// signIn reports whether a request is a step of the sign-in.
func signIn(input bin.Encoder) bool {
	switch input.(type) {
	case *tg.AuthSendCodeRequest, *tg.AuthSignInRequest, *tg.AuthCheckPasswordRequest:
		return true
	}
	return false
}
