package transports

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// SplitText cuts text into parts of at most limit UTF-16 units (the unit
// of Telegram's limits, and never less than characters: Twilio's), for a
// network that takes no longer message. It cuts at the last line break or
// space that fits (which goes with the cut), if one lies in the second half
// of the part, else between characters: never inside a UTF-16 surrogate
// pair, and not inside the characters that join into one that a reader
// sees (a letter and its combining accents or vowel signs, a Hangul
// syllable written in jamo, an emoji with its modifiers,
// variation selectors and zero-width joiners, a flag's two letters) unless
// a part holds nothing else. A part of white space alone is left out (the
// networks refuse an empty message), so the parts hold the text's every
// character but white space at the cuts. Text of white space alone has no
// parts; callers refuse it first (Outbound.Empty).
func SplitText(text string, limit int) []string {
	var parts []string
	keep := func(part string) {
		if strings.TrimSpace(part) != "" {
			parts = append(parts, part)
		}
	}
	for UTF16Len(text) > limit {
		cut, units := len(text), 0 // cut: byte offset of the longest prefix that fits
		for i, r := range text {
			n := max(utf16.RuneLen(r), 1)
			if units+n > limit {
				cut = i
				break
			}
			units += n
		}
		// A break right after the fitting prefix counts too.
		if i := strings.LastIndexAny(text[:cut+1], "\n "); i > cut/2 {
			keep(text[:i])
			text = text[i+1:]
			continue
		}
		if c := clusterStart(text, cut); c > 0 {
			cut = c
		}
		keep(text[:cut])
		text = text[cut:]
	}
	keep(text)
	return parts
}

// UTF16Len is the length of s in UTF-16 units.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// clusterStart returns the byte offset at or before cut (a character
// boundary of s) where a character a reader sees begins, as far as a few
// cheap rules tell: not before a combining mark, a variation selector, an
// emoji modifier or tag, a zero-width joiner or a Hangul vowel or final
// jamo; not after a zero-width joiner, nor after a Hangul leading jamo
// before another, a vowel or a syllable; not between the two regional
// indicators of a flag. It returns 0
// if the whole of s[:cut] is one such character.
func clusterStart(s string, cut int) int {
	for cut > 0 {
		r, _ := utf8.DecodeRuneInString(s[cut:])
		prev, size := utf8.DecodeLastRuneInString(s[:cut])
		switch {
		case extends(r), prev == zwj:
		case isHangulL(prev) && (isHangulL(r) || isHangulV(r) || isHangulSyllable(r)):
		case isRegional(r) && isRegional(prev) && regionalRun(s[:cut])%2 == 1:
		default:
			return cut
		}
		cut -= size
	}
	return 0
}

const zwj = '\u200d'

// extends reports whether r attaches to the character before it: a
// combining mark, spacing (Mc: the vowel signs of Devanagari, Bengali,
// Tamil...) or not, a Hangul vowel or final consonant jamo (with the
// jamo or syllable before it, one syllable), and the emoji's joiners,
// selectors and modifiers.
func extends(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) ||
		isHangulV(r) || isHangulT(r) ||
		r == zwj ||
		(r >= 0xfe00 && r <= 0xfe0f) || // variation selectors
		(r >= 0x1f3fb && r <= 0x1f3ff) || // emoji skin tones
		(r >= 0xe0020 && r <= 0xe007f) // emoji tags (subdivision flags)
}

// Hangul jamo: leading consonants (L), vowels (V) and trailing
// consonants (T); a syllable is L+V or L+V+T, precomposed or not.
func isHangulL(r rune) bool {
	return (r >= 0x1100 && r <= 0x115f) || (r >= 0xa960 && r <= 0xa97c)
}

func isHangulV(r rune) bool {
	return (r >= 0x1160 && r <= 0x11a7) || (r >= 0xd7b0 && r <= 0xd7c6)
}

func isHangulT(r rune) bool {
	return (r >= 0x11a8 && r <= 0x11ff) || (r >= 0xd7cb && r <= 0xd7fb)
}

func isHangulSyllable(r rune) bool { return r >= 0xac00 && r <= 0xd7a3 }

func isRegional(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// regionalRun counts the regional indicators that s ends with.
func regionalRun(s string) int {
	n := 0
	for s != "" {
		r, size := utf8.DecodeLastRuneInString(s)
		if !isRegional(r) {
			break
		}
		n++
		s = s[:len(s)-size]
	}
	return n
}
