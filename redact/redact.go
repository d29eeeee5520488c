// Package redact keeps secret values out of everything infra-guard writes.
//
// A Scrubber knows the raw value of every secret the script read (Add) and
// replaces each occurrence, in any of the forms encoders give it, with a
// marker, [REDACTED:NAME]. It works on strings (String, for result messages
// and log attributes before they are encoded) and on byte streams (Writer,
// in front of stdout, stderr and report files), where a value split across
// two writes is still found.
//
// The forms: the value; its JSON, Go-quoted (%q, %+q, Starlark's repr)
// and XML/HTML-escaped forms, and those stacked as infra-guard stacks
// them (JSON in JSON, Starlark's json.encode twice, JSON then XML); net/url's
// query, path segment, path, host, fragment and userinfo escaping; the
// host name net/http dials for it (UTS #46 mapping and punycode); GitHub
// workflow-command escaping; hex (lower and upper case); base64 (standard
// and URL alphabets, padded and not, and the part that is the same
// wherever the value sits in a larger base64 stream, at each of the three
// alignments); and each line of a multi-line value that is at least
// MinLineLen bytes long. Values shorter than MinLen bytes are not scrubbed
// (Add reports it); long values are matched in overlapping pieces of about
// 64 bytes, cut on character boundaries.
//
// URL redacts the credentials of a URL by its shape, with no secret
// registered.
//
// Matching looks for all forms of all secrets at once (match.go): a bit
// table of the bytes patterns begin with, and of the bytes inside them,
// rules out nearly all of ordinary text at a glance, and the sorted
// patterns are walked only where a form could start.
// Where matches overlap, the union of what they cover is replaced once.
package redact

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Marker is the text that replaces the secret called name.
func Marker(name string) string { return "[REDACTED:" + name + "]" }

// Scrubber holds the registered secrets. Its methods are safe for
// concurrent use, and a nil *Scrubber scrubs nothing.
type Scrubber struct {
	mu      sync.Mutex
	names   []string
	pats    []pattern
	seen    map[string]bool  // name + "\x00" + value, to ignore repeats
	index   map[string]int32 // name → its index in names
	current atomic.Pointer[matcher]
	stale   atomic.Bool
	// deferred: all output is held (Writer.Hold) and will be scrubbed when
	// released, so String need not scrub yet. While a script loads, each
	// secret() makes the matcher stale; building it for every print in
	// between would cost time quadratic in the number of secrets.
	deferred atomic.Bool
}

// Defer tells the Scrubber that everything written from now on is held
// until Resume: String returns its text as it is, and no matcher is built
// until the held output is released. Call it only when every writer that
// the String results can reach is held.
func (s *Scrubber) Defer() { s.deferred.Store(true) }

// idle reports whether String would return every text as it is: no
// secrets yet, or scrubbing deferred.
func (s *Scrubber) idle() bool {
	return s == nil || s.deferred.Load() || s.matcher().empty()
}

// Resume ends Defer: String scrubs again, with every secret added by now.
func (s *Scrubber) Resume() { s.deferred.Store(false) }

// New returns a Scrubber with no secrets.
func New() *Scrubber {
	s := &Scrubber{seen: map[string]bool{}, index: map[string]int32{}}
	s.current.Store(build(nil, nil))
	return s
}

// Add registers the secret name with its raw value. It reports whether the
// value is pattern-scrubbed: false when it is shorter than MinLen bytes,
// which the caller should log as a warning naming the secret. Adding the
// same secret again does nothing. Writers use the new secret from their
// next Write on.
func (s *Scrubber) Add(name, value string) (scrubbed bool) {
	name = cleanName(name)
	fs := forms(value)
	if fs == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[name+"\x00"+value] {
		return true
	}
	s.seen[name+"\x00"+value] = true
	idx, ok := s.index[name]
	if !ok {
		idx = int32(len(s.names))
		s.index[name] = idx
		s.names = append(s.names, name)
	}
	for _, f := range fs {
		s.pats = append(s.pats, pattern{text: f, name: idx})
	}
	s.stale.Store(true)
	return true
}

// Names returns the names of the secrets being scrubbed.
func (s *Scrubber) Names() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// matcher returns the matcher for the secrets added so far, building it
// on first use after an Add.
func (s *Scrubber) matcher() *matcher {
	if s == nil {
		return nil
	}
	if s.stale.Load() {
		s.mu.Lock()
		if s.stale.Load() {
			s.current.Store(build(s.pats, slices.Clone(s.names)))
			s.stale.Store(false)
		}
		s.mu.Unlock()
	}
	return s.current.Load()
}

// cleanName keeps marker text plain in every output format: letters,
// digits, '_', '-' and '.', anything else as '_'.
func cleanName(name string) string {
	if name == "" {
		return "secret"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return '_'
	}, name)
}

// String returns text with every registered secret replaced by its marker.
// It returns text itself when there is nothing to replace.
func (s *Scrubber) String(text string) string {
	if s != nil && s.deferred.Load() {
		return text
	}
	m := s.matcher()
	if m.empty() || len(text) == 0 {
		return text
	}
	var ivs []interval
	find(m, text, 0, len(text), 0, &ivs, true)
	if len(ivs) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	pos := int64(0)
	for _, iv := range ivs {
		b.WriteString(text[pos:iv.start])
		b.Write(m.markers[iv.name])
		pos = iv.end
	}
	b.WriteString(text[pos:])
	return b.String()
}

// Writer returns a writer that scrubs what is written to it and passes the
// result on to w, one Write for each Write. To find a value split across
// writes it holds back the end of each write that could begin a secret's
// form — at most the longest pattern less one byte, and in ordinary text
// none or a few bytes — so log lines go out at once. Close writes what is
// held back; it does not close w. A nil Scrubber gives a writer that only
// adds Close.
func (s *Scrubber) Writer(w io.Writer) *Writer {
	return &Writer{sc: s, w: w}
}

// Writer is the streaming scrubber that Scrubber.Writer returns. buf holds
// the bytes from absolute offset base not yet written on: the end of the
// stream where a match may begin that more text could complete, or, while
// held, everything. ivs holds the covered intervals found past base, and at
// most one that began before base and has had its marker written.
type Writer struct {
	mu     sync.Mutex
	sc     *Scrubber
	w      io.Writer
	buf    []byte
	base   int64
	ivs    []interval
	out    []byte
	err    error
	closed bool
	held   bool
	// dropped counts what was written while held past MaxHeld and thrown
	// away rather than kept: holding is for the load phase's few lines,
	// and a script printing in a loop must not hold the process's memory.
	dropped int64
}

// MaxHeld is how much a held Writer keeps; the rest is dropped, and a
// line at Release says how much.
const MaxHeld = 16 << 20

var _ io.WriteCloser = (*Writer)(nil)

// Hold keeps everything written from now on until Release or Close. It is
// for the time before every secret is known: what was written then is
// scrubbed with the secrets registered by the time it is released.
func (w *Writer) Hold() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held = true
}

// Release scrubs what was held with the secrets registered now and writes
// it on; from then on writes flow as usual.
func (w *Writer) Release() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.held || w.closed {
		return w.err
	}
	w.held = false
	if w.err != nil {
		return w.err
	}
	w.noteDropped()
	return w.scrub(w.sc.matcher(), nil, false)
}

// noteDropped says, in the stream, how much a hold dropped.
func (w *Writer) noteDropped() {
	if w.dropped > 0 {
		w.buf = fmt.Appendf(w.buf, "\n[infra-guard: %d bytes written while the script loaded were dropped, past the %d MiB that is held until every secret is known]\n", w.dropped, MaxHeld>>20)
		w.dropped = 0
	}
}

// ErrClosed is returned by a Write after Close.
var ErrClosed = io.ErrClosedPipe

// Write scrubs p and writes on all of it but what could be the start of a
// secret's form; it reports len(p) unless the underlying writer failed,
// whose error it then keeps returning.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.held {
		// Scanned once, at Release, with the secrets known by then.
		if len(w.buf)+len(p) > MaxHeld {
			w.dropped += int64(len(p))
		} else {
			w.buf = append(w.buf, p...)
		}
		return len(p), nil
	}
	m := w.sc.matcher()
	if m.empty() && len(w.buf) == 0 && len(w.ivs) == 0 {
		w.base += int64(len(p))
		n, err := w.w.Write(p)
		w.err = err
		return n, err
	}
	if err := w.scrub(m, p, false); err != nil {
		return len(p), err
	}
	return len(p), nil
}

// scrub finds the matches in buf followed by p and writes on all of it
// (when final) or all but what could begin a match that more text would
// complete, keeping that in buf. p is not kept.
func (w *Writer) scrub(m *matcher, p []byte, final bool) error {
	held := len(w.buf)
	if m.empty() {
		return w.emit(m, p, w.base+int64(held+len(p)))
	}
	if held > 0 {
		// A match that starts in buf ends at most maxLen-1 bytes into p:
		// only that much of p is copied to scan across the seam.
		seam := append(w.buf, p[:min(len(p), m.maxLen-1)]...)
		w.buf = seam[:held]
		if h := find(m, seam, 0, held, w.base, &w.ivs, final); h < held {
			return w.emit(m, p, w.base+int64(h))
		}
	}
	h := find(m, p, 0, len(p), w.base+int64(held), &w.ivs, final)
	return w.emit(m, p, w.base+int64(held+h))
}

// emit writes on the stream buf+p up to offset safe, markers in place of
// the covered intervals, in one Write, and keeps the rest in buf.
func (w *Writer) emit(m *matcher, p []byte, safe int64) error {
	held := int64(len(w.buf))
	var err error
	switch n := safe - w.base; {
	case n == 0:
	case len(w.ivs) > 0 && w.ivs[0].start < safe:
		out := w.out[:0]
		pos := w.base
		for len(w.ivs) > 0 && w.ivs[0].start < safe {
			iv := &w.ivs[0]
			if iv.start > pos {
				out = w.appendStream(out, p, pos, iv.start)
			}
			if !iv.marked {
				out = append(out, m.markers[iv.name]...)
				iv.marked = true
			}
			if iv.end > safe {
				pos = safe
				break
			}
			pos = iv.end
			w.ivs = w.ivs[1:]
		}
		if pos < safe {
			out = w.appendStream(out, p, pos, safe)
		}
		if len(out) > 0 {
			_, err = w.w.Write(out)
		}
		w.out = out[:0]
	case held == 0: // the usual case: straight from p
		_, err = w.w.Write(p[:n])
	case n <= held:
		_, err = w.w.Write(w.buf[:n])
	default:
		w.out = w.appendStream(w.out[:0], p, w.base, safe)
		_, err = w.w.Write(w.out)
		w.out = w.out[:0]
	}
	// Keep the interval whose marker is out and which may still grow; any
	// later ones are found again when what follows safe is scanned.
	if len(w.ivs) > 0 && w.ivs[0].start < safe {
		w.ivs = w.ivs[:1]
	} else {
		w.ivs = nil
	}
	if k := safe - w.base; k <= held {
		n := copy(w.buf, w.buf[k:])
		w.buf = append(w.buf[:n], p...)
	} else {
		w.buf = append(w.buf[:0], p[k-held:]...)
	}
	w.base = safe
	w.err = err
	return err
}

// appendStream appends the stream buf+p's bytes from offset a to b.
func (w *Writer) appendStream(out, p []byte, a, b int64) []byte {
	a, b = a-w.base, b-w.base
	held := int64(len(w.buf))
	if a < held {
		out = append(out, w.buf[a:min(b, held)]...)
	}
	if b > held {
		out = append(out, p[max(a, held)-held:b-held]...)
	}
	return out
}

// Close writes on everything held back, scrubbed with the secrets
// registered by now. It does not close the underlying writer. Closing twice
// is allowed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	w.noteDropped()
	w.held = false
	return w.scrub(w.sc.matcher(), nil, true)
}
