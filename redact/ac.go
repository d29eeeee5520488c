package redact

// This file holds the multi-pattern matcher: an Aho–Corasick automaton over
// bytes. States near the root, where scanning ordinary text spends nearly
// all its time, have a full transition row indexed by byte class (a DFA
// row); deeper states keep only their trie edges and fall back along
// failure links, so memory grows with the total pattern length, not with
// states × alphabet.

import (
	"slices"
	"strings"
)

// denseDepth is the depth up to which states get a full transition row.
const denseDepth = 3

// pattern is one text to find, and the index of the secret it belongs to.
type pattern struct {
	text string
	name int32
}

// state is what the scan loop reads for every byte, kept together so that
// one cache line answers both questions.
type state struct {
	row int32 // offset of the state's row in matcher.dense, or -1 (sparse)
	out int32 // length of the longest pattern ending here, 0 for none
}

// matcher is an immutable automaton; a Scrubber swaps in a new one when a
// secret is added, and every Writer picks it up on its next Write.
type matcher struct {
	class   [256]int32 // byte → class; class 0 is every byte in no pattern
	nclass  int32
	states  []state
	outName []int32 // secret index of the longest pattern ending at a state
	fail    []int32
	edgeLo  []int32 // sparse states' trie edges: edgeB/edgeTo[edgeLo:edgeHi]
	edgeHi  []int32
	edgeB   []byte
	edgeTo  []int32
	dense   []int32 // rows of next states
	// fast is dense for the scan loop: the next state's row offset when it
	// is dense and ends no pattern, else -(state+1).
	fast     []int32
	rowState []int32 // the state that owns each row

	names   []string // secret names, by index
	markers [][]byte // "[REDACTED:NAME]", by index
	depth   []int32  // length of the pattern prefix each state stands for
	maxLen  int      // longest pattern
}

// empty reports whether m matches nothing.
func (m *matcher) empty() bool { return m == nil || m.maxLen == 0 }

// next is the automaton's transition function.
func (m *matcher) next(s int32, b byte) int32 {
	for {
		if r := m.states[s].row; r >= 0 {
			return m.dense[r+m.class[b]]
		}
		for e := m.edgeLo[s]; e < m.edgeHi[s]; e++ {
			if m.edgeB[e] == b {
				return m.edgeTo[e]
			}
		}
		s = m.fail[s]
	}
}

// build makes the automaton for pats, which must be non-empty strings.
func build(pats []pattern, names []string) *matcher {
	m := &matcher{names: names}
	for _, n := range names {
		m.markers = append(m.markers, []byte(Marker(n)))
	}
	if len(pats) == 0 {
		return m
	}
	// Byte classes: each byte that occurs in some pattern gets its own.
	var used [256]bool
	for _, p := range pats {
		for i := 0; i < len(p.text); i++ {
			used[p.text[i]] = true
		}
	}
	m.nclass = 1
	for b := range used {
		if used[b] {
			m.class[b] = m.nclass
			m.nclass++
		}
	}

	// The trie, built from the patterns in sorted order: each pattern
	// shares a path with the one before it up to their common prefix, so
	// no lookup structure is needed, and every node's children are created
	// in increasing byte order. Nodes are numbered in creation order.
	sorted := slices.Clone(pats)
	slices.SortStableFunc(sorted, func(a, b pattern) int { return strings.Compare(a.text, b.text) })
	total := 1 // an upper bound on the number of nodes
	for _, p := range pats {
		total += len(p.text)
	}
	var (
		label      = append(make([]byte, 0, total), 0)
		firstChild = append(make([]int32, 0, total), -1)
		lastChild  = append(make([]int32, 0, total), -1)
		sibling    = append(make([]int32, 0, total), -1)
		term       = append(make([]int32, 0, total), 0) // length of the pattern ending exactly here
		termName   = append(make([]int32, 0, total), 0)
		path       = []int32{0} // path[i]: the node for the first i bytes of prev
		prev       string
	)
	for _, p := range sorted {
		lcp := 0
		for lcp < len(p.text) && lcp < len(prev) && p.text[lcp] == prev[lcp] {
			lcp++
		}
		path = path[:lcp+1]
		for i := lcp; i < len(p.text); i++ {
			parent := path[i]
			n := int32(len(label))
			label = append(label, p.text[i])
			firstChild = append(firstChild, -1)
			lastChild = append(lastChild, -1)
			sibling = append(sibling, -1)
			term = append(term, 0)
			termName = append(termName, 0)
			if lastChild[parent] < 0 {
				firstChild[parent] = n
			} else {
				sibling[lastChild[parent]] = n
			}
			lastChild[parent] = n
			path = append(path, n)
		}
		if end := path[len(p.text)]; term[end] == 0 { // the first of equal texts wins
			term[end], termName[end] = int32(len(p.text)), p.name
		}
		prev = p.text
		m.maxLen = max(m.maxLen, len(p.text))
	}
	lastChild = nil

	n := len(label)
	m.states = make([]state, n)
	m.outName = make([]int32, n)
	m.fail = make([]int32, n)
	m.depth = make([]int32, n)
	m.edgeLo = make([]int32, n)
	m.edgeHi = make([]int32, n)

	// Breadth first, a level at a time: a state's failure target is
	// shallower, so it is complete (row, edges, output) by the time the
	// state needs it.
	level := []int32{0}
	var nextLevel []int32
	for depth := 0; len(level) > 0; depth++ {
		nextLevel = nextLevel[:0]
		for _, u := range level {
			m.depth[u] = int32(depth)
			if depth <= denseDepth {
				r := int32(len(m.dense))
				m.states[u].row = r
				if u == 0 {
					m.dense = append(m.dense, make([]int32, m.nclass)...)
				} else {
					fr := m.states[m.fail[u]].row
					m.dense = append(m.dense, m.dense[fr:fr+m.nclass]...)
				}
				for c := firstChild[u]; c >= 0; c = sibling[c] {
					m.dense[r+m.class[label[c]]] = c
				}
			} else {
				m.states[u].row = -1
				m.edgeLo[u] = int32(len(m.edgeB))
				for c := firstChild[u]; c >= 0; c = sibling[c] {
					m.edgeB = append(m.edgeB, label[c])
					m.edgeTo = append(m.edgeTo, c)
				}
				m.edgeHi[u] = int32(len(m.edgeB))
			}
			for c := firstChild[u]; c >= 0; c = sibling[c] {
				if u != 0 {
					m.fail[c] = m.next(m.fail[u], label[c])
				}
				f := m.fail[c]
				m.states[c].out, m.outName[c] = m.states[f].out, m.outName[f]
				if term[c] > m.states[c].out {
					m.states[c].out, m.outName[c] = term[c], termName[c]
				}
				nextLevel = append(nextLevel, c)
			}
		}
		level, nextLevel = nextLevel, level
	}
	m.fast = make([]int32, len(m.dense))
	m.rowState = make([]int32, len(m.dense)/int(m.nclass))
	for k, t := range m.dense {
		if st := m.states[t]; st.row >= 0 && st.out == 0 {
			m.fast[k] = st.row
		} else {
			m.fast[k] = -(t + 1)
		}
	}
	for u, st := range m.states {
		if st.row >= 0 {
			m.rowState[st.row/m.nclass] = int32(u)
		}
	}
	return m
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
	// Matches arrive in order of their end, so the work is at the back.
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

// scan runs the automaton over p, which starts at absolute offset base, from
// state s, adds every match to ivs and returns the state after p.
func scan[T ~string | ~[]byte](m *matcher, p T, base int64, s int32, ivs *[]interval) int32 {
	fast, class, nclass := m.fast, &m.class, m.nclass
	i := 0
	for i < len(p) {
		if r := m.states[s].row; r >= 0 {
			// The hot loop: from one dense state without output to the next
			// costs a class lookup and a row lookup.
			for {
				if i == len(p) {
					return m.rowState[r/nclass]
				}
				x := fast[r+class[p[i]]]
				i++
				if x >= 0 {
					r = x
					continue
				}
				s = -x - 1
				break
			}
		} else {
			s = m.next(s, p[i])
			i++
		}
		if l := m.states[s].out; l != 0 {
			end := base + int64(i)
			*ivs = addInterval(*ivs, end-int64(l), end, m.outName[s])
		}
	}
	return s
}
