package redact

// This file holds the multi-pattern matcher. Scanning output for the forms
// of the secrets must cost little per byte of ordinary text, in which
// nearly every letter and digit begins some form: an automaton that
// follows every byte is almost never at its root there, and pays a cache
// miss per byte once the forms of a hundred secrets are in it.
//
// So the scan does not follow the text. It takes the positions where a
// match could start in blocks of stride (the shortest pattern less 3, at
// most 16): a match starting in a block holds the 4 bytes at the block's
// last position, so when a bit table of the 4-byte grams near the start of
// patterns has no bit for them, which in log text is nearly always, no
// match starts in the block. In the other blocks each position's first 3
// bytes are looked up in a bit table of patterns' beginnings, and only
// where that hits are the sorted patterns walked. No state is carried from
// one byte to the next: a Writer keeps the bytes from the first position
// where text ended inside a pattern, and scans them again with what comes.

import (
	"cmp"
	"slices"
	"strings"
)

// pattern is one text to find, and the index of the secret it belongs to.
type pattern struct {
	text string
	name int32
}

// gramLen is how many bytes the filter looks at: a pattern can start only
// where the filter has a bit for the gramLen bytes there. probeLen is the
// same for the inner filter.
const (
	gramLen  = 3
	probeLen = 4
)

// maxStride bounds find's blocks: past it, longer blocks save little
// scanning but put more grams in the inner filter (stride of them per
// pattern), which costs building time and memory.
const maxStride = 16

// matcher is an immutable set of patterns; a Scrubber swaps in a new one
// when a secret is added, and every Writer picks it up on its next Write.
type matcher struct {
	pats []string // every distinct pattern text, sorted
	name []int32  // the secret of each text (the first one added, for equal texts)
	// filter has the bit hash(g) set for the first gramLen bytes g of
	// every pattern, and for a shorter pattern, for every gramLen bytes
	// that begin with it. shift turns the hash into a bit index.
	filter []uint64
	shift  uint32
	// starts maps a pattern's first gramLen bytes to the range of pats
	// that begin with them (open addressing, linear probing).
	starts     []gramRange
	startShift uint32
	short      []int32 // pats shorter than gramLen, in sorted order
	// inner has the bit hash(g) set for the probeLen bytes g at each
	// offset below stride in every pattern. find looks at one such gram
	// in every stride bytes: stride is the shortest pattern less
	// probeLen-1, at most maxStride; below 2, find looks at every position.
	inner      []uint64
	innerShift uint32
	stride     int

	names   []string // secret names, by index
	markers [][]byte // "[REDACTED:NAME]", by index
	maxLen  int      // longest pattern
}

// gramRange is pats[lo:hi], the patterns beginning with the gram key-1
// (key 0 marks a free slot).
type gramRange struct {
	key    uint32
	lo, hi int32
}

// empty reports whether m matches nothing.
func (m *matcher) empty() bool { return m == nil || m.maxLen == 0 }

// hashGram is a multiplicative hash of gramLen bytes packed into x; the top
// bits are the well-mixed ones, so a table of 2^k entries shifts by 32-k.
func hashGram(x uint32) uint32 { return x * 0x9E3779B1 }

// build makes the matcher for pats, which must be non-empty strings.
func build(pats []pattern, names []string) *matcher {
	m := &matcher{names: names}
	for _, n := range names {
		m.markers = append(m.markers, []byte(Marker(n)))
	}
	if len(pats) == 0 {
		return m
	}
	// Sorted by text, and equal texts in the order they were added, of
	// which the first wins. Most comparisons are settled by the first 8
	// bytes, compared as a number (a thousand secrets make 20,000 texts).
	type entry struct {
		key uint64 // the first 8 bytes, big-endian, zero-padded
		pattern
		added int
	}
	sorted := make([]entry, len(pats))
	for i, p := range pats {
		var key uint64
		for k := range 8 {
			key <<= 8
			if k < len(p.text) {
				key |= uint64(p.text[k])
			}
		}
		sorted[i] = entry{key, p, i}
	}
	slices.SortFunc(sorted, func(a, b entry) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		if c := strings.Compare(a.text, b.text); c != 0 {
			return c
		}
		return a.added - b.added
	})
	for i, p := range sorted {
		if i > 0 && p.text == sorted[i-1].text {
			continue
		}
		m.pats = append(m.pats, p.text)
		m.name = append(m.name, p.name)
		m.maxLen = max(m.maxLen, len(p.text))
	}

	// One slot per distinct gram, at most half the table full; the filter
	// gets 64 bits per gram, so a gram of ordinary text finds its bit set
	// about once in 64 (when it begins no pattern).
	grams := 0
	for i, p := range m.pats {
		if len(p) >= gramLen && (i == 0 || len(m.pats[i-1]) < gramLen || m.pats[i-1][:gramLen] != p[:gramLen]) {
			grams++
		}
	}
	fbits := uint32(12)
	for 1<<fbits < 64*grams && fbits < 22 {
		fbits++
	}
	m.filter = make([]uint64, 1<<fbits/64)
	m.shift = 32 - fbits
	sbits := uint32(4)
	for 1<<sbits < 2*grams {
		sbits++
	}
	m.starts = make([]gramRange, 1<<sbits)
	m.startShift = 32 - sbits

	setBit := func(x uint32) {
		h := hashGram(x) >> m.shift
		m.filter[h/64] |= 1 << (h % 64)
	}
	for i := 0; i < len(m.pats); {
		p := m.pats[i]
		if len(p) < gramLen {
			// Mark every gram this pattern begins: a pattern of one byte
			// b needs all 2^16 grams b??, one of two bytes the 256 ab?.
			m.short = append(m.short, int32(i))
			x := uint32(p[0])
			if len(p) == 1 {
				for y := range uint32(1 << 16) {
					setBit(x | y<<8)
				}
			} else {
				x |= uint32(p[1]) << 8
				for y := range uint32(256) {
					setBit(x | y<<16)
				}
			}
			i++
			continue
		}
		j := i + 1
		for j < len(m.pats) && strings.HasPrefix(m.pats[j], p[:gramLen]) {
			j++
		}
		x := gram(p, 0)
		setBit(x)
		k := hashGram(x) >> m.startShift
		for m.starts[k].key != 0 {
			k = (k + 1) & uint32(len(m.starts)-1)
		}
		m.starts[k] = gramRange{key: x + 1, lo: int32(i), hi: int32(j)}
		i = j
	}

	minLen := m.maxLen
	for _, p := range m.pats {
		minLen = min(minLen, len(p))
	}
	if m.stride = min(minLen-probeLen+1, maxStride); m.stride > 1 {
		// About 32 bits per gram, so a gram in no pattern finds its bit
		// set about once in 32, up to 512 KiB (for about 100 secrets of
		// 30 characters and more).
		ibits := uint32(12)
		for 1<<ibits < 32*m.stride*len(m.pats) && ibits < 22 {
			ibits++
		}
		m.inner = make([]uint64, 1<<ibits/64)
		m.innerShift = 32 - ibits
		for _, p := range m.pats {
			for o := range m.stride {
				h := hashGram(probe(p, o)) >> m.innerShift
				m.inner[h/64] |= 1 << (h % 64)
			}
		}
	}
	return m
}

// probe packs text[i:i+probeLen] into a number.
func probe[T ~string | ~[]byte](text T, i int) uint32 {
	return uint32(text[i]) | uint32(text[i+1])<<8 | uint32(text[i+2])<<16 | uint32(text[i+3])<<24
}

// gram packs text[i:i+gramLen] into a number.
func gram[T ~string | ~[]byte](text T, i int) uint32 {
	return uint32(text[i]) | uint32(text[i+1])<<8 | uint32(text[i+2])<<16
}

// startRange is the range of pats beginning with the gram x, empty if none.
func (m *matcher) startRange(x uint32) (lo, hi int) {
	mask := uint32(len(m.starts) - 1)
	for k := hashGram(x) >> m.startShift; ; k = (k + 1) & mask {
		switch e := m.starts[k]; e.key {
		case x + 1:
			return int(e.lo), int(e.hi)
		case 0:
			return 0, 0
		}
	}
}

// interval is a stretch of the stream, [start, end) in absolute offsets,
// covered by one or more matches. marked is set once its marker has been
// written (the interval may still grow past what was written).
type interval struct {
	start, end int64
	name       int32
	marked     bool
}

// addInterval merges [start, end) into ivs, which is sorted and has no
// overlaps. Intervals that overlap merge; touching ones stay apart. The
// merged interval is named after the match that starts first.
func addInterval(ivs []interval, start, end int64, name int32) []interval {
	// Matches arrive in order of their start, so the work is at the back.
	j := len(ivs)
	for j > 0 && ivs[j-1].start >= end {
		j--
	}
	i := j
	for i > 0 && ivs[i-1].end > start {
		i--
	}
	nv := interval{start: start, end: end, name: name}
	for k := i; k < j; k++ {
		if ivs[k].start <= nv.start { // sorted: the first merged one starts first
			nv.start, nv.name = ivs[k].start, ivs[k].name
		}
		nv.end = max(nv.end, ivs[k].end)
		nv.marked = nv.marked || ivs[k].marked
	}
	if i == j {
		ivs = append(ivs, interval{})
		copy(ivs[i+1:], ivs[i:])
		ivs[i] = nv
		return ivs
	}
	ivs[i] = nv
	return append(ivs[:i+1], ivs[j:]...)
}

// find adds to ivs the matches that start in text[from:to], text starting
// at absolute offset base. Where several patterns start at one position,
// the interval covers the longest and is named after the shortest, so that
// overlapping matches merge as they would taken one by one in order of
// their end.
//
// Unless final, more text may follow: find then stops at the first
// position where text ends inside a pattern that starts there (which could
// still complete), and returns it; matches from there on are left to the
// next call, which sees more text. Otherwise, and when there is no such
// position, it returns to.
func find[T ~string | ~[]byte](m *matcher, text T, from, to int, base int64, ivs *[]interval, final bool) int {
	// Starts go in blocks of m.stride. A match starting in [i, i+stride)
	// is at least minLen long, so it holds the bytes at i+stride-1 and the
	// probeLen-1 after them as one of its probe grams: where the inner
	// filter has no bit for that gram, no match starts in the block. In
	// ordinary text that skips nearly every block, with one look.
	i := from
	if k := m.stride; k > 1 {
		inner, shift := m.inner, m.innerShift
		for ; i < to && i+k-1+probeLen <= len(text); i += k {
			h := hashGram(probe(text, i+k-1)) >> shift
			if inner[h/64]&(1<<(h%64)) == 0 {
				continue
			}
			if h := findEach(m, text, i, min(i+k, to), base, ivs, final); h < min(i+k, to) {
				return h
			}
		}
		i = min(i, to)
	}
	return findEach(m, text, i, to, base, ivs, final)
}

// findEach is find looking at every start.
func findEach[T ~string | ~[]byte](m *matcher, text T, from, to int, base int64, ivs *[]interval, final bool) int {
	filter, shift := m.filter, m.shift
	i := from
	// Positions whose gram's bit is clear start no match.
	for last := min(to, len(text)-(gramLen-1)); i < last; i++ {
		h := hashGram(gram(text, i)) >> shift
		if filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		if matchAt(m, text, i, base, ivs) && !final {
			return i
		}
	}
	// The last gramLen-1 bytes of text have no whole gram.
	for ; i < to; i++ {
		if matchAt(m, text, i, base, ivs) && !final {
			return i
		}
	}
	return to
}

// matchAt adds the match, if any, of the patterns that start at text[s:], and
// reports whether text ends inside one of them (text[s:] is a proper prefix
// of a pattern).
func matchAt[T ~string | ~[]byte](m *matcher, text T, s int, base int64, ivs *[]interval) (open bool) {
	n := len(text)
	name, end := int32(-1), 0
	match := func(k, l int) {
		if name < 0 {
			name = m.name[k]
		}
		end = s + l
	}
	// pats[lo:hi] are the patterns that begin with text[s:s+d].
	lo, hi, d := 0, len(m.pats), 0
	if n-s >= gramLen {
		for _, k := range m.short { // shorter ones first, as in sorted order
			if p := m.pats[k]; hasPrefixAt(text, s, p) {
				match(int(k), len(p))
			}
		}
		lo, hi = m.startRange(gram(text, s))
		d = gramLen
	}
	for {
		if lo < hi && len(m.pats[lo]) == d { // sorted: a prefix comes first
			match(lo, d)
			lo++
		}
		if lo >= hi {
			break
		}
		if s+d == n {
			open = true
			break
		}
		// Sorted, the range shares every byte on which its first and last
		// patterns agree (all of them, when one pattern is left): those
		// are compared with the text in one run, up to where first ends,
		// and only where first and last differ is the range cut down.
		first, last := m.pats[lo], m.pats[hi-1]
		if first[d] != last[d] {
			lo, hi = m.narrow(lo, hi, d, text[s+d])
			d++
			continue
		}
		for d < len(first) && s+d < n && first[d] == last[d] && first[d] == text[s+d] {
			d++
		}
		if d < len(first) && s+d < n && first[d] == last[d] { // the text differs
			break
		}
	}
	if name >= 0 {
		*ivs = addInterval(*ivs, base+int64(s), base+int64(end), name)
	}
	return open
}

// narrow returns the part of pats[lo:hi] (which share their first d bytes
// and are all longer than d) whose byte d is c.
func (m *matcher) narrow(lo, hi, d int, c byte) (int, int) {
	pats := m.pats
	a, b := lo, hi
	for a < b { // the first with byte d >= c
		h := int(uint(a+b) >> 1)
		if pats[h][d] < c {
			a = h + 1
		} else {
			b = h
		}
	}
	lo = a
	for b = hi; a < b; { // the first with byte d > c
		h := int(uint(a+b) >> 1)
		if pats[h][d] <= c {
			a = h + 1
		} else {
			b = h
		}
	}
	return lo, a
}

// hasPrefixAt reports whether text[s:] begins with p.
func hasPrefixAt[T ~string | ~[]byte](text T, s int, p string) bool {
	if len(text)-s < len(p) {
		return false
	}
	for k := range len(p) {
		if text[s+k] != p[k] {
			return false
		}
	}
	return true
}
