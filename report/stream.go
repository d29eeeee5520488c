package report

// This file holds stream, which every format writes through: a report of
// 100,000 checks is tens of megabytes, and a process that built it whole
// before writing it would hold it twice (the report, then its text) or
// more (a buffer that doubled as it grew).

import (
	"io"
	"math"
	"strconv"
)

// streamChunk is how much a format gathers before it writes on. A report
// smaller than this (nearly all of them) is one Write, which is what the
// secret scrubber and a terminal handle best; a larger one goes out in
// pieces of about this size, one check's text never split between two
// pieces unless it alone is larger.
const streamChunk = 64 << 10

// stream collects a format's output in b, which the format appends to
// directly, and writes it on in pieces: the format calls mark after each
// check, and end last. The first write error sticks: nothing more is
// written, and end returns it.
type stream struct {
	w   io.Writer
	b   []byte
	err error
}

func newStream(w io.Writer) *stream {
	// Small to start with: most reports are a few KiB (and serve makes
	// one per request); a large one grows it to a chunk a few times.
	return &stream{w: w, b: make([]byte, 0, 4<<10)}
}

// mark writes on what has been gathered once it reaches streamChunk.
func (s *stream) mark() {
	if len(s.b) >= streamChunk {
		s.flush()
	}
}

func (s *stream) flush() {
	if s.err == nil && len(s.b) > 0 {
		_, s.err = s.w.Write(s.b)
	}
	s.b = s.b[:0]
}

// end writes on the rest and returns the first error.
func (s *stream) end() error {
	s.flush()
	return s.err
}

// WriteString, WriteByte and Write let helpers that take an io.Writer or
// a strings.Builder-like value append to the stream.
func (s *stream) WriteString(str string) (int, error) {
	s.b = append(s.b, str...)
	return len(str), nil
}

func (s *stream) WriteByte(c byte) error {
	s.b = append(s.b, c)
	return nil
}

func (s *stream) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// appendDecimal appends v as strconv.AppendFloat(b, v, 'f', -1, 64) does —
// exactly, without an exponent — taking the integer shortcut for the
// whole numbers most metrics are (FuzzDecimal compares the two).
func appendDecimal(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 && !(v == 0 && math.Signbit(v)) {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
