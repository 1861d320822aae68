package transports

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	const limit = 10
	for _, tt := range []struct {
		name, text string
		want       []string
	}{
		{"short", "hello", []string{"hello"}},
		{"at a space", "hello big world", []string{"hello big", "world"}},
		{"at a line break", "abcdefg\nhijkl", []string{"abcdefg", "hijkl"}},
		{"no break", strings.Repeat("a", 25), []string{strings.Repeat("a", 10), strings.Repeat("a", 10), "aaaaa"}},
		{"trailing blank line", strings.Repeat("a", 10) + "\n\n", []string{strings.Repeat("a", 10)}},
		{"leading spaces", strings.Repeat(" ", 15) + "hi", []string{"    hi"}},
		// A surrogate pair (2 units) never straddles a cut.
		{"surrogate pairs", strings.Repeat("😀", 6), []string{"😀😀😀😀😀", "😀"}},
		// e and a combining acute accent stay together.
		{"combining mark", "abcdefghie\u0301xyz", []string{"abcdefghi", "e\u0301xyz"}},
		// A thumbs up and its skin tone (4 units) stay together.
		{"emoji modifier", "abcdefgh👍🏽", []string{"abcdefgh", "👍🏽"}},
		// A family joined with zero-width joiners stays together.
		{"zwj sequence", "abcdef👩\u200d👧x", []string{"abcdef", "👩\u200d👧x"}},
		// Flags are pairs of regional indicators (2 units each).
		{"flags", "ab🇩🇪🇫🇷🇮🇹", []string{"ab🇩🇪🇫🇷", "🇮🇹"}},
		{"flags at an odd cut", "abc🇩🇪🇫🇷🇮🇹", []string{"abc🇩🇪", "🇫🇷🇮🇹"}},
		// A spacing vowel sign (Mc) stays with its letter: कि is क and ि.
		{"spacing mark", "abcdefghiकि", []string{"abcdefghi", "कि"}},
		{"spacing mark in Tamil", "abcdefghiகொ", []string{"abcdefghi", "கொ"}},
		// Hangul written in jamo: 한 is ᄒ ᅡ ᆫ (L V T), 가 is ᄀ ᅡ.
		{"hangul jamo LVT", "abcdefgh한", []string{"abcdefgh", "한"}},
		{"hangul jamo LV", "abcdefghi가", []string{"abcdefghi", "가"}},
		{"hangul syllable and T", "abcdefghi각", []string{"abcdefghi", "각"}},
		{"hangul L and syllable", "abcdefghiᄀ가", []string{"abcdefghi", "ᄀ가"}},
		{"hangul syllables", "abcdefgh한국어", []string{"abcdefgh한국", "어"}},
		// One cluster longer than a part is cut between characters.
		{"one long cluster", "e" + strings.Repeat("\u0301", 12), []string{"e" + strings.Repeat("\u0301", 9), strings.Repeat("\u0301", 3)}},
	} {
		got := SplitText(tt.text, limit)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: SplitText(%q) = %q, want %q", tt.name, tt.text, got, tt.want)
		}
		for _, p := range got {
			if UTF16Len(p) > limit || !utf8.ValidString(p) || strings.TrimSpace(p) == "" {
				t.Errorf("%s: part %q", tt.name, p)
			}
		}
	}
	if got := SplitText(" \n ", limit); len(got) != 0 {
		t.Errorf("white space alone: %q", got)
	}
}
