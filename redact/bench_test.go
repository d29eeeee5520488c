package redact

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchSecrets returns n random token-like secrets of 24 to 48 characters,
// some with characters that need escaping.
func benchSecrets(n int) []string {
	r := rand.New(rand.NewPCG(7, 7))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=\"<&"
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 24+r.IntN(25))
		for j := range b {
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		out[i] = string(b)
	}
	return out
}

// logText returns about size bytes of slog text lines of the kind a run
// writes, with no secret in them.
func logText(size int) []byte {
	r := rand.New(rand.NewPCG(1, 1))
	words := []string{"check", "disk", "memory", "api", "health", "latency", "ok", "warn", "timeout",
		"connection", "refused", "https://example.org/health?x=1", "status=200", "GET", "retrying", "db"}
	var b bytes.Buffer
	t := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for b.Len() < size {
		t = t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		fmt.Fprintf(&b, "time=%s level=INFO msg=\"%s %s %s\" check=%s duration_ms=%d id=%016x\n",
			t.Format(time.RFC3339Nano), words[r.IntN(len(words))], words[r.IntN(len(words))],
			words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(5000), r.Uint64())
	}
	return b.Bytes()
}

// copySink copies what is written to it, as writing to a file or pipe
// does at the least.
type copySink struct{ buf []byte }

func (c *copySink) Write(p []byte) (int, error) {
	if len(p) > cap(c.buf) {
		c.buf = make([]byte, len(p))
	}
	return copy(c.buf[:len(p)], p), nil
}

// BenchmarkWriter is the throughput target: 100 secrets over 10 MiB of log
// text, written in 4 KiB pieces to a writer that copies them, against the
// same text with no secret (a plain copy).
func BenchmarkWriter(b *testing.B) {
	for _, n := range []int{0, 1, 20, 100} {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			s := New()
			for i, v := range benchSecrets(n) {
				s.Add(fmt.Sprintf("S%d", i), v)
			}
			text := logText(10 << 20)
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for range b.N {
				w := s.Writer(&copySink{})
				for p := text; len(p) > 0; {
					k := min(4096, len(p))
					w.Write(p[:k])
					p = p[k:]
				}
				w.Close()
			}
		})
	}
}

// BenchmarkString scrubs one log line's worth of text with 20 secrets.
func BenchmarkString(b *testing.B) {
	s := New()
	for i, v := range benchSecrets(20) {
		s.Add(fmt.Sprintf("S%d", i), v)
	}
	msg := "health endpoint: connection refused after 3 attempts (https://example.org/health)"
	s.String(msg) // build the matcher outside the timing
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = s.String(msg)
	}
}

// BenchmarkAdd is the cost of registering 20 secrets and building the
// matcher, paid once per run before any check runs.
func BenchmarkAdd(b *testing.B) {
	secrets := benchSecrets(20)
	b.ReportAllocs()
	for range b.N {
		s := New()
		for i, v := range secrets {
			s.Add(fmt.Sprintf("S%d", i), v)
		}
		s.matcher()
	}
}
