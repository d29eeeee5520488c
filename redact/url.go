package redact

// This file holds URL redaction: the parts of a URL that carry
// credentials, replaced by REDACTED wherever infra-guard shows a URL (a
// check's r.url, an error that quotes a URL, an env() value). Unlike the
// Scrubber it needs no registered secret: it works on the URL's shape.

import (
	"regexp"
	"strings"
	"sync"
)

// Redacted replaces the secret parts of a URL: a userinfo password, each
// query value and the fragment.
const Redacted = "REDACTED"

// URL returns s with the parts of a URL that carry credentials replaced by
// REDACTED: the password of the userinfo (or the whole userinfo when it
// has no ':', as token-as-username URLs have), every query value (keys
// are kept) and the fragment. Everything else is kept byte for byte.
//
//	https://user:pw@host/p?token=abc&x=1#frag → https://user:REDACTED@host/p?token=REDACTED&x=REDACTED#REDACTED
//
// It reads the raw text, not what url.Parse makes of it: a password with
// an unescaped '/', '?' or '#' makes url.Parse take part of the password
// for the host ("https://u:12/ss@host/x" parses as host "u:12" and path
// "/ss@host/x"), so a redaction based on the parse would show it. Here the
// userinfo is everything from after the "//" that follows the scheme (from
// the start of the text when there is none, as in "user:pw@db:5432") up to
// the last '@': a credential may hold any character, and only the last '@' can be
// the one in front of the host the user meant. An '@' that was meant to
// be in the path or the query ("https://host/@name", "?to=a@b.example")
// makes the redaction take more than the userinfo; showing too little of
// a URL is the safe way to be wrong.
func URL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	rest := s
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		start := 0
		if m := authorityStart().FindStringIndex(s[:at]); m != nil {
			start = m[1]
		}
		userinfo := s[start:at]
		b.WriteString(s[:start])
		// The user name stays, so the reader knows which account it was;
		// a placeholder's ':' ("<secret:NAME>") does not end a user name.
		if user, _, ok := strings.Cut(userinfo, ":"); ok && !strings.Contains(user, "<secret") {
			b.WriteString(user + ":" + Redacted)
		} else if userinfo != "" {
			b.WriteString(Redacted)
		}
		b.WriteByte('@')
		rest = s[at+1:]
	}
	// The fragment starts at the first '#'; the query at the first '?'
	// before it.
	frag := ""
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, frag = rest[:i], rest[i+1:]
		if frag != "" {
			frag = Redacted
		}
		frag = "#" + frag
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		b.WriteString(rest[:i+1])
		b.WriteString(redactQuery(rest[i+1:]))
	} else {
		b.WriteString(rest)
	}
	b.WriteString(frag)
	return b.String()
}

// redactQuery keeps each key of a raw query and replaces its value; a part
// without "=" is replaced whole, since it may be a bare token.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if p == "" {
			continue
		}
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=" + Redacted
		} else {
			parts[i] = Redacted
		}
	}
	return strings.Join(parts, "&")
}

// authorityStart is the "//" that starts an authority: at the start of
// the text, or right after a scheme. A "//" further on is in the path.
// Like urlInText, it is compiled on first use: a run that shows no URL
// does not pay for it at start.
var authorityStart = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//`)
})

// urlInText finds what looks like an absolute URL in free text: a scheme,
// "://" and everything up to a space or a quote.
var urlInText = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s"'<>]+`)
})

// URLsIn redacts, with URL, every absolute URL in free text, such as an
// error message from a library that quotes the URL it was given.
func URLsIn(text string) string {
	return urlInText().ReplaceAllStringFunc(text, URL)
}
