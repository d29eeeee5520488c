package builtins

// This file holds env() and require_env(): typed, validated configuration
// from environment variables. It also holds Config, the thread-local place
// where env() and secret() look variables up and where, while the script
// loads, they record every problem instead of stopping at the first, so a
// run can list all of them at once (docs/design.md).

import (
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infra-guard/infra-guard/result"
	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/redact"
)

// Config is what env() and secret() read variables from and, in the load
// phase, record problems and secrets into. The runtime puts a load Config
// on the loading thread and a run Config on every check's thread; a thread
// with neither reads the process environment and raises every problem.
type Config struct {
	lookup   func(string) (string, bool)
	load     bool
	onSecret func(name, value string)

	mu      sync.Mutex
	errs    []result.Diagnostic
	secrets []SecretValue
	seen    map[SecretValue]bool // secrets, to add each once
}

// NewLoadConfig returns the Config of a load phase: problems are recorded
// (see Errors) and the builtin returns the zero value of what was asked
// for, so the script goes on. onSecret, when not nil, is called with every
// secret as soon as it is read, before secret() returns. A nil lookup
// means os.LookupEnv.
func NewLoadConfig(lookup func(string) (string, bool), onSecret func(name, value string)) *Config {
	return &Config{lookup: lookup, load: true, onSecret: onSecret}
}

// NewRunConfig returns the Config of checks: env() reads variables through
// lookup (nil means os.LookupEnv) and raises its problems as errors;
// secret() is refused, because a secret must be registered for scrubbing
// before any check runs.
func NewRunConfig(lookup func(string) (string, bool)) *Config {
	return &Config{lookup: lookup}
}

// SetConfig puts cfg on thread.
func SetConfig(thread *starlark.Thread, cfg *Config) { mutableLocals(thread).Config = cfg }

var defaultConfig = NewRunConfig(nil)

func configOf(thread *starlark.Thread) *Config {
	if l := localsOf(thread); l != nil && l.Config != nil {
		return l.Config
	}
	return defaultConfig
}

// Errors returns the problems recorded so far, each at the place of the
// env(), require_env() or secret() call.
func (c *Config) Errors() []result.Diagnostic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]result.Diagnostic(nil), c.errs...)
}

// Secrets returns the secrets read so far, each once.
func (c *Config) Secrets() []SecretValue {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SecretValue(nil), c.secrets...)
}

// get returns a variable's value. A variable set to the empty string
// counts as not set: in CI and Kubernetes an empty value is how a
// variable is usually left out.
func (c *Config) get(name string) (string, bool) {
	lookup := c.lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, ok := lookup(name)
	return v, ok && v != ""
}

// problem records msg in the load phase, where the builtin then returns
// zero, or raises it in the run phase.
func (c *Config) problem(thread *starlark.Thread, zero starlark.Value, format string, args ...any) (starlark.Value, error) {
	msg := fmt.Sprintf(format, args...)
	if !c.load {
		return nil, fmt.Errorf("%s", msg)
	}
	pos := thread.CallFrame(1).Pos
	c.mu.Lock()
	c.errs = append(c.errs, result.Diagnostic{File: pos.Filename(), Line: int(pos.Line), Col: int(pos.Col), Msg: msg})
	c.mu.Unlock()
	return zero, nil
}

func (c *Config) addSecret(name, value string) {
	sv := SecretValue{Name: name, Value: value}
	c.mu.Lock()
	if c.seen[sv] {
		c.mu.Unlock()
		return
	}
	if c.seen == nil {
		c.seen = map[SecretValue]bool{}
	}
	c.seen[sv] = true
	c.secrets = append(c.secrets, sv)
	c.mu.Unlock()
	if c.onSecret != nil {
		c.onSecret(name, value)
	}
}

// SecretValue is a secret read by secret(): its name and raw value, for
// registering with the scrubber. However it is formatted or logged, it
// shows only <secret:NAME>.
type SecretValue struct {
	Name  string
	Value string
}

func (s SecretValue) String() string { return "<secret:" + s.Name + ">" }
func (s SecretValue) GoString() string {
	return "builtins.SecretValue{Name: " + strconv.Quote(s.Name) + "}"
}
func (s SecretValue) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }
func (s SecretValue) LogValue() slog.Value          { return slog.StringValue(s.String()) }

// isEnvName reports whether name looks like a variable name: letters,
// digits and _, not starting with a digit. (A loop, not a regexp compiled
// at every start.)
func isEnvName(name string) bool {
	for i, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return name != ""
}

func checkEnvName(fn, name string) error {
	if !isEnvName(name) {
		return fmt.Errorf("%s: %q is not a variable name; want letters, digits and _, not starting with a digit", fn, name)
	}
	return nil
}

// secretWords are the parts of a name that say it holds a secret.
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "API_KEY", "PRIVATE_KEY", "CREDENTIAL"}

// looksSecret returns the secret word in name, or "".
func looksSecret(name string) string {
	upper := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(upper, w) {
			return w
		}
	}
	return ""
}

func refuseSecretName(fn, name string) error {
	if w := looksSecret(name); w != "" {
		return fmt.Errorf("%s: %s looks like a secret (its name contains %s); read it with secret(%q), which keeps its value out of logs and reports and also accepts %s_FILE", fn, name, w, name, name)
	}
	return nil
}

// envType is one of env()'s types.
type envType struct {
	want  string // what a value should look like, for messages
	zero  func() starlark.Value
	parse func(raw string) (starlark.Value, error)
	// conv checks and converts a default or a choice given in the script.
	conv func(v starlark.Value) (starlark.Value, bool)
}

var envTypes = map[string]*envType{
	"string": {
		want:  "a string",
		zero:  func() starlark.Value { return starlark.String("") },
		parse: func(raw string) (starlark.Value, error) { return starlark.String(raw), nil },
		conv:  convString,
	},
	"int": {
		want: "an int (a whole number such as 8080)",
		zero: func() starlark.Value { return starlark.MakeInt(0) },
		parse: func(raw string) (starlark.Value, error) {
			n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return nil, fmt.Errorf("is out of range")
				}
				return nil, fmt.Errorf("is not an int")
			}
			return starlark.MakeInt64(n), nil
		},
		conv: func(v starlark.Value) (starlark.Value, bool) {
			i, ok := v.(starlark.Int)
			return i, ok
		},
	},
	"float": {
		want: "a number such as 0.75",
		zero: func() starlark.Value { return starlark.Float(0) },
		parse: func(raw string) (starlark.Value, error) {
			f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("is not a finite number")
			}
			return starlark.Float(f), nil
		},
		conv: func(v starlark.Value) (starlark.Value, bool) {
			switch v := v.(type) {
			case starlark.Float:
				return v, true
			case starlark.Int:
				f, ok := starlark.AsFloat(v)
				return starlark.Float(f), ok
			}
			return nil, false
		},
	},
	"bool": {
		want: "a bool: true/false, yes/no, on/off or 1/0",
		zero: func() starlark.Value { return starlark.False },
		parse: func(raw string) (starlark.Value, error) {
			switch strings.ToLower(strings.TrimSpace(raw)) {
			case "true", "yes", "on", "1":
				return starlark.True, nil
			case "false", "no", "off", "0":
				return starlark.False, nil
			}
			return nil, fmt.Errorf("is not a bool")
		},
		conv: func(v starlark.Value) (starlark.Value, bool) {
			b, ok := v.(starlark.Bool)
			return b, ok
		},
	},
	"duration": {
		want:  `a duration such as "500ms", "30s" or "5m"`,
		zero:  func() starlark.Value { return starlarktime.Duration(0) },
		parse: parseEnvDuration,
		conv: func(v starlark.Value) (starlark.Value, bool) {
			switch v := v.(type) {
			case starlarktime.Duration:
				return v, v >= 0
			case starlark.String:
				d, err := parseEnvDuration(string(v))
				return d, err == nil
			}
			return nil, false
		},
	},
	"url": {
		want:  `an absolute URL such as "https://example.org/health"`,
		zero:  func() starlark.Value { return starlark.String("") },
		parse: parseEnvURL,
		conv: func(v starlark.Value) (starlark.Value, bool) {
			s, ok := v.(starlark.String)
			if !ok {
				return nil, false
			}
			u, err := parseEnvURL(string(s))
			return u, err == nil
		},
	},
	"list": {
		want: `a comma-separated list such as "a, b, c"`,
		zero: func() starlark.Value { return starlark.NewList(nil) },
		parse: func(raw string) (starlark.Value, error) {
			var elems []starlark.Value
			for part := range strings.SplitSeq(raw, ",") {
				if part = strings.TrimSpace(part); part != "" {
					elems = append(elems, starlark.String(part))
				}
			}
			return starlark.NewList(elems), nil
		},
		conv: func(v starlark.Value) (starlark.Value, bool) {
			var elems []starlark.Value
			switch v.(type) {
			case *starlark.List, starlark.Tuple:
			default:
				return nil, false
			}
			for e := range starlark.Elements(v.(starlark.Iterable)) {
				if _, ok := e.(starlark.String); !ok {
					return nil, false
				}
				elems = append(elems, e)
			}
			return starlark.NewList(elems), true
		},
	},
}

var envTypeNames = "string, int, float, bool, duration, url or list"

func convString(v starlark.Value) (starlark.Value, bool) {
	s, ok := v.(starlark.String)
	return s, ok
}

func parseEnvDuration(raw string) (starlark.Value, error) {
	d, err := time.ParseDuration(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("is not a duration")
	}
	if d < 0 {
		return nil, fmt.Errorf("is a negative duration")
	}
	return starlarktime.Duration(d), nil
}

func parseEnvURL(raw string) (starlark.Value, error) {
	s := strings.TrimSpace(raw)
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("is not an absolute URL")
	}
	return starlark.String(s), nil
}

// envShow is how a variable's value appears in a message: quoted, with
// the credentials of a URL in it redacted by redact.URL (userinfo
// password, query values, fragment). That applies to every value of a url
// variable, parsable or not, with or without a scheme ("user:pw@db:5432",
// "//u:pw@host/"), and to any other value or list item written like a URL
// or like "user:password@host". It is never cut short: a cut value that
// held a secret would no longer match the output scrubber's patterns.
// Names that look like secrets never get this far.
func envShow(raw string, isURL bool) string {
	if isURL || urlLike(raw) {
		raw = redact.URL(strings.TrimSpace(raw))
	}
	return strconv.Quote(raw)
}

// urlLike reports whether s may carry URL credentials: it has "://", starts
// with "//", or has a ':' before its last '@'. A plain e-mail address
// does not.
func urlLike(s string) bool {
	if strings.Contains(s, "://") || strings.HasPrefix(strings.TrimSpace(s), "//") {
		return true
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[:at], ":")
}

// env(name, default=, type="string", choices=, pattern=)
func env(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		name     string
		def      starlark.Value // nil: no default
		typeName                = "string"
		choices  starlark.Value = starlark.None
		pattern  string
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "default?", &def, "type?", &typeName, "choices?", &choices, "pattern?", &pattern); err != nil {
		return nil, err
	}
	if err := checkEnvName(b.Name(), name); err != nil {
		return nil, err
	}
	if err := refuseSecretName(b.Name(), name); err != nil {
		return nil, err
	}
	typ, ok := envTypes[typeName]
	if !ok {
		return nil, fmt.Errorf("%s: %s: unknown type %q; want %s", b.Name(), name, typeName, envTypeNames)
	}
	// For a list, pattern and choices apply to each element.
	elemConv := typ.conv
	if typeName == "list" {
		elemConv = convString
	}
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile(`^(?:` + pattern + `)$`); err != nil {
			return nil, fmt.Errorf("%s: %s: pattern %q: %v", b.Name(), name, pattern, err)
		}
	}
	var allowed []starlark.Value
	if choices != starlark.None {
		it, ok := choices.(starlark.Iterable)
		if !ok || choices.Type() == "string" {
			return nil, fmt.Errorf("%s: %s: choices must be a list, got %s", b.Name(), name, choices.Type())
		}
		for c := range starlark.Elements(it) {
			cv, ok := elemConv(c)
			if !ok {
				return nil, fmt.Errorf("%s: %s: choice %s is not %s", b.Name(), name, c.String(), typ.want)
			}
			allowed = append(allowed, cv)
		}
		if len(allowed) == 0 {
			return nil, fmt.Errorf("%s: %s: choices is empty", b.Name(), name)
		}
	}
	// check returns what is wrong with one value (an element, for a list).
	check := func(v starlark.Value, text string) string {
		if re != nil && !re.MatchString(text) {
			return fmt.Sprintf("does not match the pattern %q", pattern)
		}
		if allowed != nil {
			for _, a := range allowed {
				if eq, err := starlark.Equal(v, a); err == nil && eq {
					return ""
				}
			}
			return fmt.Sprintf("is not one of %s", listOf(allowed))
		}
		return ""
	}
	checkAll := func(v starlark.Value, raw string) string {
		if typeName != "list" {
			return check(v, raw)
		}
		for e := range starlark.Elements(v.(starlark.Iterable)) {
			if why := check(e, string(e.(starlark.String))); why != "" {
				return fmt.Sprintf("element %s %s", envShow(string(e.(starlark.String)), false), why)
			}
		}
		return ""
	}

	cfg := configOf(thread)
	raw, set := cfg.get(name)
	if !set {
		if def == nil {
			return cfg.problem(thread, typ.zero(), "%s: %s is not set; want %s (set it, or give env() a default)", b.Name(), name, typ.want)
		}
		if def == starlark.None {
			return starlark.None, nil
		}
		v, ok := typ.conv(def)
		if !ok {
			return nil, fmt.Errorf("%s: %s: default %s is not %s", b.Name(), name, def.String(), typ.want)
		}
		text, _ := starlark.AsString(v)
		if why := checkAll(v, text); why != "" {
			return nil, fmt.Errorf("%s: %s: default %s %s", b.Name(), name, def.String(), why)
		}
		return v, nil
	}
	v, err := typ.parse(raw)
	if err != nil {
		return cfg.problem(thread, typ.zero(), "%s: %s=%s %v; want %s", b.Name(), name, envShow(raw, typeName == "url"), err, typ.want)
	}
	if why := checkAll(v, raw); why != "" {
		return cfg.problem(thread, typ.zero(), "%s: %s=%s %s", b.Name(), name, envShow(raw, typeName == "url"), why)
	}
	return v, nil
}

func listOf(vs []starlark.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// require_env(*names)
func requireEnv(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword argument %s", b.Name(), kwargs[0][0])
	}
	names := make([]string, len(args))
	for i, a := range args {
		s, ok := a.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: argument %d is a %s, want a variable name", b.Name(), i+1, a.Type())
		}
		if err := checkEnvName(b.Name(), string(s)); err != nil {
			return nil, err
		}
		if err := refuseSecretName(b.Name(), string(s)); err != nil {
			return nil, err
		}
		names[i] = string(s)
	}
	cfg := configOf(thread)
	var missing []string
	for _, n := range names {
		if _, set := cfg.get(n); !set {
			missing = append(missing, n)
		}
	}
	if !cfg.load && len(missing) > 0 {
		return nil, fmt.Errorf("%s: not set: %s", b.Name(), strings.Join(missing, ", "))
	}
	for _, n := range missing {
		cfg.problem(thread, nil, "%s: %s is not set", b.Name(), n)
	}
	return starlark.None, nil
}
