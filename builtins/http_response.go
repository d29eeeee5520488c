package builtins

// This file holds the values http_check returns: the response, with its
// json() method, and its headers, looked up without regard to case.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// httpResponse is what http_check returns. It is immutable.
type httpResponse struct {
	ok           bool
	status       int
	headers      *httpHeaders
	body         []byte
	truncated    bool
	duration     time.Duration
	firstAttempt time.Duration
	attempts     int
	err          string
	url          string // redacted
	tls          starlark.Value
}

var (
	_ starlark.HasAttrs        = (*httpResponse)(nil)
	_ starlark.IterableMapping = (*httpHeaders)(nil)
	_ starlark.HasAttrs        = (*httpHeaders)(nil)
	_ starlark.Sequence        = (*httpHeaders)(nil)
)

var httpResponseAttrs = []string{"attempts", "body", "duration_ms", "error", "first_attempt_ms", "headers", "json", "ok", "status", "tls", "truncated", "url"}

func (r *httpResponse) String() string {
	if r.err != "" {
		return fmt.Sprintf("http_response(url = %q, status = %d, error = %q)", r.url, r.status, r.err)
	}
	return fmt.Sprintf("http_response(url = %q, status = %d)", r.url, r.status)
}
func (r *httpResponse) Type() string          { return "http_response" }
func (r *httpResponse) Freeze()               {}
func (r *httpResponse) Truth() starlark.Bool  { return starlark.Bool(r.ok) }
func (r *httpResponse) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: http_response") }
func (r *httpResponse) AttrNames() []string   { return httpResponseAttrs }

func (r *httpResponse) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(r.ok), nil
	case "status":
		return starlark.MakeInt(r.status), nil
	case "headers":
		return r.headers, nil
	case "body":
		return starlark.String(r.body), nil
	case "json":
		return starlark.NewBuiltin("json", r.decodeJSON).BindReceiver(r), nil
	case "duration_ms":
		return millis(r.duration), nil
	case "first_attempt_ms":
		return millis(r.firstAttempt), nil
	case "attempts":
		return starlark.MakeInt(r.attempts), nil
	case "error":
		return starlark.String(r.err), nil
	case "url":
		return starlark.String(r.url), nil
	case "truncated":
		return starlark.Bool(r.truncated), nil
	case "tls":
		return r.tls, nil
	}
	return nil, nil
}

// decodeJSON is r.json(): the body decoded as JSON, with an error that
// says what the body was when it is not JSON.
func (r *httpResponse) decodeJSON(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs("json", args, kwargs); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("status %d", r.status)
	if ct := r.headers.h.Get("Content-Type"); ct != "" {
		what += ", " + ct
	}
	if len(r.body) == 0 {
		if r.err != "" {
			return nil, fmt.Errorf("http_check: json(): no body to decode; the request failed: %s", r.err)
		}
		return nil, fmt.Errorf("http_check: json(): the response body is empty (%s)", what)
	}
	v, err := starlark.Call(thread, json.Module.Members["decode"], starlark.Tuple{starlark.String(r.body)}, nil)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "json.decode: ")
		hint := ""
		if r.truncated {
			hint = "; the body was cut at 1 MiB, so a larger JSON document cannot be decoded"
		}
		return nil, fmt.Errorf("http_check: json(): the response body (%s, %d bytes) is not valid JSON: %s%s", what, len(r.body), msg, hint)
	}
	return v, nil
}

// httpHeaders are a response's headers. h["content-type"], h.get(name,
// default=None) and `name in h` ignore case; several values of one header
// are joined with ", ". Iteration gives the canonical names, sorted.
type httpHeaders struct{ h http.Header }

func (h *httpHeaders) String() string {
	var b strings.Builder
	b.WriteString("http_headers({")
	for i, k := range h.names() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", k, h.value(k))
	}
	b.WriteString("})")
	return b.String()
}
func (h *httpHeaders) Type() string          { return "http_headers" }
func (h *httpHeaders) Freeze()               {}
func (h *httpHeaders) Truth() starlark.Bool  { return len(h.h) > 0 }
func (h *httpHeaders) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: http_headers") }
func (h *httpHeaders) Len() int              { return len(h.h) }
func (h *httpHeaders) AttrNames() []string   { return []string{"get", "items", "keys", "values"} }

func (h *httpHeaders) names() []string {
	names := make([]string, 0, len(h.h))
	for k := range h.h {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func (h *httpHeaders) value(name string) string {
	return strings.Join(h.h.Values(name), ", ")
}

func (h *httpHeaders) Get(k starlark.Value) (starlark.Value, bool, error) {
	name, ok := starlark.AsString(k)
	if !ok {
		return nil, false, fmt.Errorf("http_headers: header names are strings, got %s", k.Type())
	}
	if len(h.h.Values(name)) == 0 {
		return nil, false, nil
	}
	return starlark.String(h.value(name)), true, nil
}

func (h *httpHeaders) Iterate() starlark.Iterator {
	names := h.names()
	vals := make([]starlark.Value, len(names))
	for i, n := range names {
		vals[i] = starlark.String(n)
	}
	return starlark.NewList(vals).Iterate()
}

func (h *httpHeaders) Items() []starlark.Tuple {
	names := h.names()
	items := make([]starlark.Tuple, len(names))
	for i, n := range names {
		items[i] = starlark.Tuple{starlark.String(n), starlark.String(h.value(n))}
	}
	return items
}

func (h *httpHeaders) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("get", h.get).BindReceiver(h), nil
	case "keys", "values", "items":
		return starlark.NewBuiltin(name, h.list).BindReceiver(h), nil
	}
	return nil, nil
}

func (h *httpHeaders) get(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		name string
		def  starlark.Value = starlark.None
	)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name, &def); err != nil {
		return nil, err
	}
	if v, found, _ := h.Get(starlark.String(name)); found {
		return v, nil
	}
	return def, nil
}

func (h *httpHeaders) list(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	items := h.Items()
	out := make([]starlark.Value, len(items))
	for i, kv := range items {
		switch b.Name() {
		case "keys":
			out[i] = kv[0]
		case "values":
			out[i] = kv[1]
		default:
			out[i] = kv
		}
	}
	return starlark.NewList(out), nil
}

// newStruct is a read-only struct whose str() starts with name.
func newStruct(name string, fields starlark.StringDict) starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String(name), fields)
}
