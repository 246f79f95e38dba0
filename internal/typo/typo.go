// Package typo measures how far a word is from what was probably meant.
package typo

// Distance is the optimal-string-alignment distance of a and b, counted in characters:
// insertions, deletions, substitutions and swaps of two adjacent characters each count
// once. Hand-written because no library in the module graph counts swaps as one edit, and
// "/sacle" is a typo of "/scale". It takes time in the product of the lengths: bound
// them first.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rolling rows: the swap step looks two rows back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
