package telegram

import "time"

// lastDone is when something was last done per chat, for doing it at
// most once a period; it forgets chats past their period once it holds
// more than lastDoneMax. The caller locks it.
type lastDone map[int64]time.Time

const lastDoneMax = 10000

// due reports whether the period since chat's last time has passed, and if
// so records now as its last time.
func (l lastDone) due(chat int64, now time.Time, period time.Duration) bool {
	if last, ok := l[chat]; ok && now.Sub(last) < period {
		return false
	}
	l[chat] = now
	if len(l) > lastDoneMax {
		for id, at := range l {
			if now.Sub(at) > period {
				delete(l, id)
			}
		}
	}
	return true
}
