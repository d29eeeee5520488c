// Package libs declares, fetches and unpacks team libraries of guard
// scripts: a library is a directory, or an https URL of a .tar.gz pinned by
// its sha256, declared one a line in a guard.libs file beside the script or
// with --lib NAME=SOURCE. URL libraries are verified against their pin
// before anything is unpacked, unpacked with every entry checked (Unpack),
// and cached by hash, so every run after the first works offline.
package libs

// This file holds the declarations: parsing guard.libs and --lib.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// FileName is the file beside a script that declares its libraries.
const FileName = "guard.libs"

// Spec declares one library.
type Spec struct {
	Name   string
	Source string // a directory, or an https:// URL of a .tar.gz
	SHA256 string // lowercase hex; required for a URL, empty for a directory
	// Base is the directory a relative directory Source is relative to:
	// the directory of the file that names it ("" for the working one).
	Base string
	// Where names the declaration in messages: "app/guard.libs:3" or
	// "--lib".
	Where string
}

// IsURL reports whether the library is fetched rather than read in place.
func (s Spec) IsURL() bool { return strings.HasPrefix(s.Source, "https://") }

// Dir is the directory of a directory library.
func (s Spec) Dir() string {
	if filepath.IsAbs(s.Source) {
		return s.Source
	}
	return filepath.Join(s.Base, s.Source)
}

// String is the declaration as a guard.libs line.
func (s Spec) String() string {
	if s.SHA256 != "" {
		return s.Name + " " + s.Source + " sha256:" + s.SHA256
	}
	return s.Name + " " + s.Source
}

// validName reports whether name is a letter, then letters, digits, - or
// _, at most 64 in all. It is a loop rather than a regular expression:
// `[…]{0,63}` compiles to 63 nested copies, 0.4 ms and 860 allocations
// in package init on every start.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i, c := range []byte(name) {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '-' || c == '_')) {
			return false
		}
	}
	return true
}

// checkName refuses a name load("@NAME//…") could not use, and std, which
// is the embedded library's.
func checkName(name string) error {
	switch {
	case name == "std":
		return fmt.Errorf("the name std is the embedded standard library's; choose another")
	case !validName(name):
		return fmt.Errorf("library name %q: want a letter, then letters, digits, - or _ (at most 64)", name)
	}
	return nil
}

// check validates source and the hash of a declaration.
func (s *Spec) check() error {
	if err := checkName(s.Name); err != nil {
		return err
	}
	switch {
	case s.Source == "":
		return fmt.Errorf("library %s: no source", s.Name)
	case strings.HasPrefix(s.Source, "http://"):
		return fmt.Errorf("library %s: %s is plain http; use an https:// URL", s.Name, s.Source)
	case s.IsURL() && s.SHA256 == "":
		return fmt.Errorf("library %s: a URL needs its hash: add sha256:HEX (infra-guard libs add %s %s computes it)", s.Name, s.Name, s.Source)
	case !s.IsURL() && s.SHA256 != "":
		return fmt.Errorf("library %s: sha256: pins a URL's archive; a directory is read as it is", s.Name)
	case !s.IsURL() && strings.Contains(s.Source, "://"):
		return fmt.Errorf("library %s: %s: want a directory or an https:// URL", s.Name, s.Source)
	}
	return nil
}

// parseHash reads "sha256:HEX".
func parseHash(field string) (string, error) {
	h, ok := strings.CutPrefix(field, "sha256:")
	if !ok {
		return "", fmt.Errorf("%q: want sha256:HEX", field)
	}
	h = strings.ToLower(h)
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return "", fmt.Errorf("%q: want sha256: and 64 hex digits", field)
	}
	return h, nil
}

// Parse reads a guard.libs file: one library a line, "NAME SOURCE
// [sha256:HEX]", blank lines and # comments ignored. file names it in
// errors and Specs, and its directory is the Base of relative directories.
// The first malformed line is the error, as "FILE:LINE: what is wrong".
func Parse(file string, data []byte) ([]Spec, error) {
	var specs []Spec
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", file, n)
		if len(fields) > 3 {
			return nil, fmt.Errorf("%s: want NAME SOURCE [sha256:HEX], got %d fields", where, len(fields))
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s: want NAME SOURCE [sha256:HEX], got only %q", where, fields[0])
		}
		s := Spec{Name: fields[0], Source: fields[1], Base: filepath.Dir(file), Where: where}
		if len(fields) == 3 {
			h, err := parseHash(fields[2])
			if err != nil {
				return nil, fmt.Errorf("%s: %v", where, err)
			}
			s.SHA256 = h
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if first, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("%s: library %s is declared twice (first on line %d)", where, s.Name, first)
		}
		seen[s.Name] = n
		specs = append(specs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return specs, nil
}

// ParseFlag reads one --lib value, NAME=SOURCE, where a URL SOURCE carries
// its pin after a #: NAME=https://host/lib.tar.gz#sha256:HEX. A relative
// directory is relative to the working directory.
func ParseFlag(v string) (Spec, error) {
	name, source, ok := strings.Cut(v, "=")
	if !ok {
		return Spec{}, fmt.Errorf("want NAME=DIR or NAME=https://…/lib.tar.gz#sha256:HEX, got %q", v)
	}
	s := Spec{Name: strings.TrimSpace(name), Source: strings.TrimSpace(source), Where: "--lib " + v}
	if u, pin, ok := strings.Cut(s.Source, "#"); ok && strings.HasPrefix(s.Source, "https://") {
		h, err := parseHash(pin)
		if err != nil {
			return Spec{}, err
		}
		s.Source, s.SHA256 = u, h
	}
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}
