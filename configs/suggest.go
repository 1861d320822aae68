package configs

import "fmt"

// unknown says that word is not one of known, suggesting the closest:
// `unknown key "sever" (did you mean "server"?)`.
func unknown(what, word string, known []string) string {
	q := quoteWord(word)
	msg := fmt.Sprintf("unknown %s %s", what, q)
	if q != quoteShort(word) {
		return msg // cut at a colon, with its hint
	}
	if s := closest(word, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// closest returns the first of candidates nearest to word, if within edit
// distance 2 and closer than the word is long ("g" does not suggest "log").
func closest(word string, candidates []string) string {
	best, bestDist := "", min(3, len(word))
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // far apart; not worth the work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
