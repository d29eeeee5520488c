package cli

// This file holds the --wait live line: one line on a terminal's stderr
// that each round rewrites, and that is cleared before anything else is
// written there, so a log record never lands in the middle of it.

import (
	"io"
	"sync"
)

// liveLine is stderr with a status line that anything else written to it
// clears first.
type liveLine struct {
	mu    sync.Mutex
	w     io.Writer
	shown bool
}

// Write clears the live line, if one is shown, and writes p.
func (l *liveLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clearLocked()
	return l.w.Write(p)
}

// show replaces the live line with text (one line, no newline).
func (l *liveLine) show(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, "\r\x1b[K"+text)
	l.shown = true
}

// clear removes the live line, if one is shown.
func (l *liveLine) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clearLocked()
}

func (l *liveLine) clearLocked() {
	if l.shown {
		_, _ = io.WriteString(l.w, "\r\x1b[K")
		l.shown = false
	}
}
