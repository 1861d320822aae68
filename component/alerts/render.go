package alerts

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxText is the most bytes of text one destination gets: longer texts
// (thousands of alerts) are cut like an SMS, at a line, with "+N more".
const MaxText = 16 << 10

// Text is a rendered message: lines, some of them one alert each.
type Text struct {
	lines []line
	extra int // alerts not listed (Alertmanager's truncatedAlerts)
}

type line struct {
	s     string
	alert bool // one alert's line, counted in "+N more" when cut
	head  bool // a section's heading: never cut
}

// PlainText is the simple form's text.
func PlainText(s string) Text {
	var t Text
	for l := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		t.lines = append(t.lines, line{s: strings.TrimRight(l, " \t\r")})
	}
	return t
}

// Render renders alerts (n's, or a route's share of them) as one message:
// the firing alerts under a "[FIRING:N] name (labels)" line, then the
// resolved ones under "[RESOLVED:N]", one line per alert with its instance
// and summary (or description). The name and the labels in parentheses are
// those all the alerts share: alertname, then severity and n's group labels.
func Render(n *Notification, alerts []Alert) Text {
	var firing, resolved []Alert
	for _, a := range alerts {
		if a.Status == Resolved {
			resolved = append(resolved, a)
		} else {
			firing = append(firing, a)
		}
	}
	name := common(alerts, "alertname")
	subject := subjectOf(n, alerts, name)
	t := Text{extra: n.TruncatedAlerts}
	section := func(status string, as []Alert, first bool) {
		if len(as) == 0 {
			return
		}
		head := "[" + status + ":" + strconv.Itoa(len(as)) + "]"
		if first && subject != "" {
			head += " " + subject
		}
		t.lines = append(t.lines, line{s: head, head: true})
		for _, a := range as {
			t.lines = append(t.lines, line{s: "- " + alertLine(a, name), alert: true})
		}
	}
	section("FIRING", firing, true)
	section("RESOLVED", resolved, len(firing) == 0)
	return t
}

// subjectOf names what the alerts are about: their alertname (else the
// values of the group labels), then the shared values of severity and the
// other group labels: `HighLatency (severity=critical)`.
func subjectOf(n *Notification, alerts []Alert, name string) string {
	keys := slices.Sorted(maps.Keys(n.GroupLabels))
	if name == "" {
		var vals []string
		for _, k := range keys {
			if v := clean(n.GroupLabels[k]); v != "" {
				vals = append(vals, v)
			}
		}
		name = strings.Join(vals, " ")
		keys = nil // already named
	}
	if !slices.Contains(keys, "severity") {
		keys = append([]string{"severity"}, keys...)
	}
	var quals []string
	for _, k := range keys {
		if k == "alertname" {
			continue
		}
		if v := common(alerts, k); v != "" {
			quals = append(quals, k+"="+v)
		}
	}
	if len(quals) == 0 {
		return name
	}
	return strings.TrimSpace(name + " (" + strings.Join(quals, ", ") + ")")
}

// alertLine describes one alert: "api-1:9090: p99 latency 812ms", with its
// alertname first unless every alert shares it.
func alertLine(a Alert, shared string) string {
	var who []string
	if shared == "" {
		if v := clean(a.Labels["alertname"]); v != "" {
			who = append(who, v)
		}
	}
	if v := clean(a.Labels["instance"]); v != "" {
		who = append(who, v)
	}
	what := clean(a.Annotations["summary"])
	if what == "" {
		what = clean(a.Annotations["description"])
	}
	switch w := strings.Join(who, " "); {
	case w != "" && what != "":
		return w + ": " + what
	case w != "":
		return w
	case what != "":
		return what
	}
	// Nothing to name it by: its labels.
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if k != "alertname" && clean(a.Labels[k]) != "" {
			kv = append(kv, k+"="+clean(a.Labels[k]))
		}
	}
	if len(kv) == 0 {
		return "(no labels)"
	}
	return strings.Join(kv, ", ")
}

// common returns the value of label key if every alert has the same one.
func common(alerts []Alert, key string) string {
	if len(alerts) == 0 {
		return ""
	}
	v := alerts[0].Labels[key]
	for _, a := range alerts[1:] {
		if a.Labels[key] != v {
			return ""
		}
	}
	return clean(v)
}

// clean puts text on one line: runs of white space and control characters
// become one space.
func clean(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029
	}), " ")
}

// Full returns the whole text, cut only past MaxText bytes.
func (t Text) Full() string {
	return t.fit(func(s string) bool { return len(s) <= MaxText }, func(string) string { return "…" })
}

// SMS returns the text cut to one SMS: 160 GSM-7 characters, or 70 if it
// needs UCS-2. Alerts that do not fit are dropped from the end and counted
// in a last "... +N more" ("…" when the text is UCS-2 anyway); a line cut
// in the middle ends with the ellipsis.
func (t Text) SMS() string {
	return t.fit(OneSMS, func(s string) string {
		if _, ok := gsm7Len(s); ok {
			return "..."
		}
		return "…"
	})
}

// minCut is the fewest characters of a line worth keeping when cutting it.
const minCut = 12

// fit joins t's lines, cut so that fits holds; ellipsis returns the
// ellipsis to end a given text with.
func (t Text) fit(fits func(string) bool, ellipsis func(string) string) string {
	full := t.join()
	if fits(full) {
		return full
	}
	left := t.extra // alerts not kept
	for _, l := range t.lines {
		if l.alert {
			left++
		}
	}
	more := func(n int) string {
		if n == 0 {
			return ""
		}
		return " +" + strconv.Itoa(n) + " more"
	}
	// end closes kept, all of whose lines are whole, when n alerts are left.
	end := func(kept string, n int) string {
		if n == 0 || kept == "" {
			return kept + ellipsis(kept) + more(n)
		}
		return kept + "\n" + ellipsis(kept) + more(n)
	}
	kept := ""
	before := ""   // kept before its last line, if that is a section's head
	shown := false // an alert's line is kept
	for i, l := range t.lines {
		after := left
		if l.alert {
			after--
		}
		sep := ""
		if kept != "" {
			sep = "\n"
		}
		if last := i == len(t.lines)-1; !last || after > 0 {
			if c := kept + sep + l.s; fits(end(c, after)) {
				before = ""
				if l.head && kept != "" {
					before = kept
				}
				kept, left = c, after
				shown = shown || l.alert
				continue
			}
		}
		// l does not fit whole: keep its beginning, if enough of it fits.
		r := []rune(l.s)
		cut := func(k int) string {
			p := kept + sep + strings.TrimRight(string(r[:k]), " ")
			return p + ellipsis(p) + more(after)
		}
		k := lastTrue(len(r), func(k int) bool { return fits(cut(k)) })
		// Once an alert is shown, the others are dropped whole, and so are
		// headings; the first alert's line and plain text may be cut.
		if kept == "" || k >= min(minCut, len(r)) && !l.head && !(l.alert && shown) {
			return cut(max(k, 0))
		}
		if l.alert && before != "" {
			kept = before // not a section's head without any of its alerts
		}
		return end(kept, left)
	}
	return end(kept, left) // every line is kept, but not the count of alerts left out
}

// lastTrue returns the largest k in [0, n] for which f holds, assuming f
// holds up to some k and not after; -1 if f(0) fails.
func lastTrue(n int, f func(int) bool) int {
	lo, hi := -1, n+1 // f(lo) holds (or lo is -1); f(hi) fails (or hi is n+1)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if f(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func (t Text) join() string {
	var b strings.Builder
	for i, l := range t.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.s)
	}
	if t.extra > 0 {
		fmt.Fprintf(&b, "\n+%d more", t.extra)
	}
	return b.String()
}

// OneSMS reports whether s fits one SMS: 160 GSM-7 septets (characters of
// the extension table take two), or else 70 UTF-16 code units (UCS-2).
func OneSMS(s string) bool {
	if n, ok := gsm7Len(s); ok {
		return n <= 160
	}
	return len(utf16.Encode([]rune(s))) <= 70
}

// The GSM 03.38 default alphabet and its extension table (without the
// escape character itself).
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

// gsm7Septets maps each character of GSM-7 beyond printable ASCII to the
// septets it takes.
var gsm7Septets = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Ext {
		m[r] = 2
	}
	return m
}()

// gsm7Len returns the septets s takes in GSM-7, and whether it can be
// written in GSM-7 at all.
func gsm7Len(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r >= ' ' && r < utf8.RuneSelf && r != '`' && !strings.ContainsRune(gsm7Ext, r) {
			n++ // printable ASCII, all in the basic table but for these
			continue
		}
		k, ok := gsm7Septets[r]
		if !ok {
			return n, false
		}
		n += k
	}
	return n, true
}
