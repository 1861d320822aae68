package telegramuser

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"xmppgw/internal/fake/tguserfake"
	"xmppgw/transports"
	"xmppgw/transports/transporttest"
)

// Telegram's other 420 errors (SLOWMODE_WAIT_X in a supergroup with slow
// mode, FLOOD_PREMIUM_WAIT_X) are waits, like FLOOD_WAIT: a send refused
// with one is retried after X seconds, not failed for good.
func TestSendSlowModeIsTemporary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newFakeEnv(t, ctx)
	me := e.mt.AddUser(tguserfake.User{Phone: "+15550001111", FirstName: "Alice"})
	carol := e.mt.AddUser(tguserfake.User{Phone: "+15550002222", FirstName: "Carol"})
	e.mt.AddContact(me.ID, carol.ID)
	tr, stop := e.run(t, ctx, &transporttest.Sink{})
	defer stop()
	signInAt(t, tr, e.mt, "+15550001111")
	account := tr.Accounts()[testUser]
	for _, name := range []string{"SLOWMODE_WAIT_10", "FLOOD_PREMIUM_WAIT_10"} {
		e.mt.Fail(tg.MessagesSendMessageRequestTypeID, tgerr.New(420, name))
		_, err := tr.Send(ctx, transports.Outbound{ID: "s-" + name, Account: account, To: transports.Addr(strconv.FormatInt(carol.ID, 10)), Body: "hi"})
		var te *transports.Error
		if !errors.As(err, &te) || te.Kind != transports.KindRateLimited || te.RetryAfter != 10*time.Second {
			t.Errorf("%s: %v, want rate limited, retry after 10 s", name, err)
		}
	}
}
