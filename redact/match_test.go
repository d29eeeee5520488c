package redact

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveIntervals is what find must give, the slow way: every occurrence of
// every pattern, overlapping ones merged, each merged interval named after
// the occurrence that starts first and, of those, is shortest; of equal
// texts the first added names it.
func naiveIntervals(pats []pattern, text string) []interval {
	type occ struct {
		start, end int
		name       int32
		added      int
	}
	var occs []occ
	for k, p := range pats {
		for i := 0; i+len(p.text) <= len(text); i++ {
			if text[i:i+len(p.text)] == p.text {
				occs = append(occs, occ{i, i + len(p.text), p.name, k})
			}
		}
	}
	slices.SortFunc(occs, func(a, b occ) int {
		return cmp.Or(a.start-b.start, a.end-b.end, a.added-b.added)
	})
	var ivs []interval
	for _, o := range occs {
		if n := len(ivs); n > 0 && int64(o.start) < ivs[n-1].end {
			ivs[n-1].end = max(ivs[n-1].end, int64(o.end))
			continue
		}
		ivs = append(ivs, interval{start: int64(o.start), end: int64(o.end), name: o.name})
	}
	return ivs
}

// matcherOf returns a Scrubber that matches exactly pats, named A, B, C.
func matcherOf(pats []pattern) *Scrubber {
	s := New()
	s.current.Store(build(pats, []string{"A", "B", "C"}))
	return s
}

// checkFind compares find, the Writer and String with naiveIntervals for
// one pattern set and text, the Writer fed in pieces chosen by seed.
func checkFind(t *testing.T, pats []pattern, text string, seed uint64) {
	t.Helper()
	s := matcherOf(pats)
	m := s.matcher()
	var got []interval
	find(m, text, 0, len(text), 0, &got, true)
	want := naiveIntervals(pats, text)
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i].start == want[i].start && got[i].end == want[i].end && got[i].name == want[i].name
	}
	if !same {
		t.Fatalf("patterns %q, text %q: find gave %v, want %v", pats, text, got, want)
	}
	if out, str := writeSplit(s, text, seed), s.String(text); out != str {
		t.Fatalf("patterns %q, text %q: Writer gave %q, String %q", pats, text, out, str)
	}
}

// randomPatterns returns n patterns over alphabet, of length from minLen
// to minLen+spread-1; some extend another's prefix.
func randomPatterns(r *rand.Rand, alphabet string, n, minLen, spread int) []pattern {
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var pats []pattern
	for range n {
		text := word(minLen + r.IntN(spread))
		if len(pats) > 0 && r.IntN(3) == 0 { // share a prefix with an earlier one
			o := pats[r.IntN(len(pats))].text
			text = o[:r.IntN(len(o)+1)] + text
		}
		pats = append(pats, pattern{text: text, name: int32(r.IntN(3))})
	}
	return pats
}

// TestFindAgainstNaive: on random pattern sets (patterns of 1 byte and
// up, shorter than the gram and the block, and long enough for find to
// skip; sharing prefixes; equal texts under different names) and texts
// full of whole and cut-off occurrences, find gives every interval the
// naive search gives, and the Writer, however the text is cut into
// writes, what String gives.
func TestFindAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	for iter := range 3000 {
		alphabet := "abcdefghijklmnopqrstuvwxyz0123456789\n"[:2+r.IntN(36)]
		minLen := 1 + r.IntN(30)
		pats := randomPatterns(r, alphabet, 1+r.IntN(20), minLen, 1+r.IntN(30))
		if r.IntN(10) == 0 {
			p := pats[r.IntN(len(pats))]
			pats = append(pats, pattern{text: p.text, name: (p.name + 1) % 3})
		}
		var text strings.Builder
		for text.Len() < 500 {
			if r.IntN(3) == 0 {
				p := pats[r.IntN(len(pats))].text
				text.WriteString(p[:len(p)-r.IntN(min(len(p), 3))])
			} else {
				for range r.IntN(40) {
					text.WriteByte(alphabet[r.IntN(len(alphabet))])
				}
			}
		}
		checkFind(t, pats, text.String(), uint64(iter))
	}
}

// A match is found wherever it starts relative to find's blocks of starts,
// alone or right after another, however the writes cut it.
func TestFindAtEveryBlockOffset(t *testing.T) {
	pats := []pattern{{text: "0123456789abcdefghijklmnopqrstuv", name: 0}, {text: "0123456789abcdefXYZ", name: 1}}
	if k := build(pats, nil).stride; k != maxStride {
		t.Fatalf("stride %d, want %d", k, maxStride)
	}
	for off := range 3 * maxStride {
		for _, p := range pats {
			text := strings.Repeat("-", off) + p.text + strings.Repeat("+", off%5)
			checkFind(t, pats, text, uint64(off))
			checkFind(t, pats, text+p.text, uint64(off))
			checkFind(t, pats, text[:len(text)-off%5-1], uint64(off)) // cut short: no match
		}
	}
}

// Patterns shorter than a gram (3 bytes) or than a probe (4) disable the
// block skipping, not the matching; and a 1- or 2-byte pattern is found at
// the very end of the text, where no gram fits.
func TestFindShortPatterns(t *testing.T) {
	for _, pats := range [][]pattern{
		{{text: "x", name: 0}, {text: "long-pattern-here", name: 1}},
		{{text: "xy", name: 0}, {text: "xyz", name: 1}, {text: "xyzw", name: 2}},
		{{text: "abc", name: 0}},
		{{text: "abcd", name: 0}, {text: "abcde", name: 1}},
	} {
		if k := build(pats, nil).stride; k > 1 {
			t.Errorf("%q: stride %d, want none", pats, k)
		}
		for _, text := range []string{"", "x", "xy", "axyzwb", "abc", "zzabcd", "abcde", "xxyyzz long-pattern-here x", "long-pattern-herx"} {
			checkFind(t, pats, text, 1)
		}
	}
}

// A Writer holds back exactly the end of a write that begins a pattern,
// also when the pattern starts in an earlier write and the next write is
// longer than any pattern (so only its first bytes are scanned with the
// held ones).
func TestWriterHoldsAcrossWrites(t *testing.T) {
	s := matcherOf([]pattern{{text: "secret-value-0123456789", name: 0}})
	var buf bytes.Buffer
	w := s.Writer(&buf)
	w.Write([]byte("one secret-val"))
	if buf.String() != "one " {
		t.Fatalf("after the first write: %q", buf.String())
	}
	w.Write([]byte("ue-01"))
	if buf.String() != "one " {
		t.Fatalf("after the second write: %q", buf.String())
	}
	w.Write([]byte("23456789 and then a long line that is longer than the pattern\n"))
	if want := "one [REDACTED:A] and then a long line that is longer than the pattern\n"; buf.String() != want {
		t.Fatalf("after the third write: %q, want %q", buf.String(), want)
	}
	buf.Reset()
	w.Write([]byte("two s")) // the longest pattern, but for its first byte, is in the next write
	w.Write([]byte("ecret-value-0123456789 and more\n"))
	if want := "two [REDACTED:A] and more\n"; buf.String() != want {
		t.Fatalf("a pattern from the last held byte: %q, want %q", buf.String(), want)
	}
	buf.Reset()
	w.Write([]byte("secret-value-012345678X, " + strings.Repeat("z", 100)))
	w.Close()
	if want := "secret-value-012345678X, " + strings.Repeat("z", 100); buf.String() != want {
		t.Fatalf("a near miss across writes: %q", buf.String())
	}
}

// A Write with nothing held back and no secret in it writes straight from
// the caller's bytes: no allocation, no copy kept.
func TestWriterPassesThroughWithoutAllocating(t *testing.T) {
	s := New()
	for i, v := range benchSecrets(20) {
		s.Add(fmt.Sprintf("S%d", i), v)
	}
	w := s.Writer(io.Discard)
	line := []byte("time=2026-11-26T12:00:00Z level=INFO msg=\"check ok\" check=disk duration_ms=3\n")
	w.Write(line)
	if n := testing.AllocsPerRun(100, func() { w.Write(line) }); n != 0 {
		t.Errorf("%v allocations per Write", n)
	}
	if len(w.buf) != 0 || cap(w.buf) != 0 {
		t.Errorf("Writer kept %d bytes (capacity %d) of a line that ended in no pattern", len(w.buf), cap(w.buf))
	}
}

// FuzzFind: find against naiveIntervals, and the Writer against String,
// for any patterns (given as one string, cut at '|') and text.
func FuzzFind(f *testing.F) {
	f.Add("abcdefgh|efghijkl", "x abcdefghijkl y abcdefgh", uint64(1))
	f.Add("x|xy|xyz", "axyzb x", uint64(2))
	f.Add("0123456789abcdefghij|0123456789abcdefXY", strings.Repeat("-", 15)+"0123456789abcdefghij", uint64(3))
	f.Add("aaaaaa|aaaaaaaa", strings.Repeat("a", 50), uint64(4))
	f.Add("line one\nline two|line two", "x\nline one\nline two\n", uint64(5))
	f.Fuzz(func(t *testing.T, spec, text string, seed uint64) {
		if len(spec) > 1000 || len(text) > 4000 {
			t.Skip()
		}
		var pats []pattern
		for i, p := range strings.Split(spec, "|") {
			if p != "" {
				pats = append(pats, pattern{text: p, name: int32(i % 3)})
			}
		}
		if len(pats) == 0 {
			t.Skip()
		}
		checkFind(t, pats, text, seed)
	})
}
