package libs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	specs, err := Parse("app/guard.libs", []byte("# libraries\n\nteam ../team # ours\nweb https://h/x.tar.gz#frag sha256:"+strings.ToUpper(sum)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[0].Dir() != "team" || specs[0].Where != "app/guard.libs:3" || specs[1].SHA256 != sum || specs[1].Source != "https://h/x.tar.gz#frag" {
		t.Fatalf("specs = %+v", specs)
	}
	for _, tt := range []struct{ text, want string }{
		{"team", "f:1: want NAME SOURCE [sha256:HEX], got only \"team\""},
		{"a b c d", "got 4 fields"},
		{"\nweb https://h/x.tar.gz", "f:2: library web: a URL needs its hash"},
		{"web http://h/x.tar.gz sha256:" + sum, "plain http"},
		{"web https://h/x.tar.gz sha256:12", "want sha256: and 64 hex digits"},
		{"web https://h/x.tar.gz md5:12", "want sha256:HEX"},
		{"web dir sha256:" + sum, "a directory is read as it is"},
		{"std dir", "the name std is the embedded standard library's"},
		{"9x dir", "library name \"9x\""},
		{"a x\na y", "f:2: library a is declared twice (first on line 1)"},
		{"a ftp://x", "want a directory or an https:// URL"},
	} {
		if _, err := Parse("f", []byte(tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.text, err, tt.want)
		}
	}
}

func TestParseFlag(t *testing.T) {
	sum := strings.Repeat("0f", 32)
	s, err := ParseFlag("team=https://h/t.tar.gz#sha256:" + sum)
	if err != nil || s.Source != "https://h/t.tar.gz" || s.SHA256 != sum {
		t.Fatalf("ParseFlag = %+v, %v", s, err)
	}
	if s, err := ParseFlag("team=lib/team"); err != nil || s.Dir() != "lib/team" {
		t.Fatalf("ParseFlag = %+v, %v", s, err)
	}
	for _, v := range []string{"team", "team=https://h/t.tar.gz", "=dir", "std=dir"} {
		if _, err := ParseFlag(v); err == nil {
			t.Errorf("ParseFlag(%q) succeeded", v)
		}
	}
}

func targz(t testing.TB, entries ...*tar.Header) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(h.Name))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg && h.Size <= int64(len(h.Name)) {
			tw.Write([]byte(h.Name)[:h.Size])
		}
	}
	tw.Close() // short of a header's size when the test wants a header that lies
	zw.Close()
	return buf.Bytes()
}

func reg(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644} }

func TestUnpack(t *testing.T) {
	files, dirs, err := Unpack(bytes.NewReader(targz(t,
		&tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}},
		&tar.Header{Name: "lib-1.0/", Typeflag: tar.TypeDir, Mode: 0o755},
		reg("lib-1.0/a.star"), reg("lib-1.0/sub/b.star"),
		&tar.Header{Name: "lib-1.0/empty/", Typeflag: tar.TypeDir, Mode: 0o755},
	)))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "a.star" || files[1].Path != "sub/b.star" || string(files[1].Data) != "lib-1.0/sub/b.star" || len(dirs) != 1 || dirs[0] != "empty" {
		t.Fatalf("files %+v dirs %v", files, dirs)
	}
	// Two top-level entries: nothing is stripped.
	files, _, err = Unpack(bytes.NewReader(targz(t, reg("a/x.star"), reg("b.star"))))
	if err != nil || files[0].Path != "a/x.star" {
		t.Fatalf("files %+v, %v", files, err)
	}
	for name, tt := range map[string]struct {
		archive []byte
		want    string
	}{
		"dotdot":   {targz(t, reg("a/../../x.star")), "climbs out with .."},
		"absolute": {targz(t, reg("/etc/x.star")), "absolute path"},
		"symlink":  {targz(t, &tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "../.."}), "symbolic link"},
		"hardlink": {targz(t, &tar.Header{Name: "a/l", Typeflag: tar.TypeLink, Linkname: "a/x"}), "hard link"},
		"device":   {targz(t, &tar.Header{Name: "a/d", Typeflag: tar.TypeChar}), "device or FIFO"},
		"fifo":     {targz(t, &tar.Header{Name: "a/f", Typeflag: tar.TypeFifo}), "device or FIFO"},
		"twice":    {targz(t, reg("a/x"), reg("a/./x")), "appears twice"},
		"file+dir": {targz(t, reg("a/x"), reg("a/x/y")), "both a file and a directory"},
		"too big":  {targz(t, &tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: MaxSize + 1}), "more than 32 MiB"},
		"not gzip": {[]byte("plain"), "not a .tar.gz"},
	} {
		if _, _, err := Unpack(bytes.NewReader(tt.archive)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tt.want)
		}
	}
}

func TestCacheEnsure(t *testing.T) {
	archive := targz(t, reg("lib/a.star"))
	sum := sha256.Sum256(archive)
	hexSum := hex.EncodeToString(sum[:])
	hits := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Write(archive)
	}))
	defer srv.Close()
	c := &Cache{Dir: t.TempDir(), Client: srv.Client()}
	s := Spec{Name: "t", Source: srv.URL + "/t.tar.gz", SHA256: hexSum, Where: "guard.libs:1"}
	for range 2 {
		dir, err := c.Ensure(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "a.star")); err != nil || string(b) != "lib/a.star" {
			t.Fatalf("a.star: %q, %v", b, err)
		}
	}
	if hits != 1 {
		t.Errorf("%d fetches, want 1", hits)
	}
	s.SHA256 = strings.Repeat("0", 64)
	_, err := c.Ensure(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "has sha256:"+hexSum+", but the pin is sha256:"+s.SHA256) {
		t.Fatalf("mismatch: %v", err)
	}
	if _, _, err := Download(context.Background(), srv.Client(), "http://x/"); err == nil {
		t.Error("Download of http:// succeeded")
	}
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 1 {
		t.Errorf("cache holds %d entries, want 1 (no temporary left)", len(entries))
	}
}

// FuzzParse: no input panics, and every Spec Parse returns is one the
// loader can use.
func FuzzParse(f *testing.F) {
	f.Add("team ../team\n# c\nweb https://h/x.tar.gz sha256:" + strings.Repeat("ab", 32))
	f.Add("a b c d\n")
	f.Add("std x")
	f.Fuzz(func(t *testing.T, text string) {
		specs, err := Parse("guard.libs", []byte(text))
		if err != nil {
			return
		}
		for _, s := range specs {
			if checkName(s.Name) != nil || s.Source == "" || (s.IsURL() && len(s.SHA256) != 64) {
				t.Fatalf("Parse accepted %+v", s)
			}
		}
	})
}

// FuzzUnpack: no archive panics, and what Unpack accepts has only paths
// that stay inside, so writing it cannot reach outside its directory.
func FuzzUnpack(f *testing.F) {
	f.Add(targz(f, reg("lib/a.star"), reg("lib/b/c.star")))
	f.Add(targz(f, reg("a/../../x")))
	f.Add(targz(f, &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/"}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, archive []byte) {
		files, dirs, err := Unpack(bytes.NewReader(archive))
		if err != nil {
			return
		}
		total := 0
		for _, p := range append(dirs, pathsOf(files)...) {
			if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") && hasDotDot(p) {
				t.Fatalf("Unpack accepted the path %q", p)
			}
		}
		for _, f := range files {
			total += len(f.Data)
		}
		if total > MaxSize {
			t.Fatalf("Unpack returned %d bytes", total)
		}
		dst := t.TempDir()
		if err := write(dst, files, dirs); err != nil {
			return
		}
	})
}

func pathsOf(files []File) []string {
	var ps []string
	for _, f := range files {
		ps = append(ps, f.Path)
	}
	return ps
}

func hasDotDot(p string) bool {
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// TestValidName holds validName to the regular expression it replaced.
func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	names := []string{"", "a", "Z", "9", "_a", "-a", "a9", "a-b_c", "a.b", "a/b", "a b", "é", "aé",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "a" + strings.Repeat("9", 63), "a" + strings.Repeat("9", 64)}
	for c := 0; c < 256; c++ {
		names = append(names, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validName(n), re.MatchString(n); got != want {
			t.Errorf("validName(%q) = %v, want %v", n, got, want)
		}
	}
}
