package libs

// This file holds the cache of URL libraries and the fetch that fills it:
// $XDG_CACHE_HOME/infra-guard/libs/<sha256>/ holds the unpacked archive
// whose hash is <sha256>, written once and renamed into place whole, so a
// directory there is always complete and verified.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Cache is where URL libraries are kept, and how they are fetched.
type Cache struct {
	// Dir holds one directory per archive, named by its sha256.
	Dir string
	// Client fetches archives; nil means one that trusts the system roots
	// (SSL_CERT_FILE and SSL_CERT_DIR honoured) and gives up after a minute.
	Client *http.Client
}

// DefaultDir is $XDG_CACHE_HOME/infra-guard/libs, else
// ~/.cache/infra-guard/libs, read through getenv.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "infra-guard", "libs"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "infra-guard", "libs"), nil
	}
	return "", errors.New("neither XDG_CACHE_HOME nor HOME is set: there is no cache for URL libraries")
}

var defaultClient = &http.Client{Timeout: time.Minute}

func (c *Cache) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return defaultClient
}

// Path is where the library with this hash is, or would be, unpacked.
func (c *Cache) Path(sha string) string { return filepath.Join(c.Dir, sha) }

// Cached reports whether the library of s is in the cache.
func (c *Cache) Cached(s Spec) bool {
	fi, err := os.Stat(c.Path(s.SHA256))
	return err == nil && fi.IsDir()
}

// Ensure returns the directory of URL library s, fetching, verifying and
// unpacking it first unless the cache has it. Once cached, it touches no
// network. Errors name the library, its declaration and, for a hash
// mismatch, both hashes.
func (c *Cache) Ensure(ctx context.Context, s Spec) (string, error) {
	dir := c.Path(s.SHA256)
	if c.Cached(s) {
		return dir, nil
	}
	data, sum, err := Download(ctx, c.client(), s.Source)
	if err != nil {
		return "", fmt.Errorf("library %s (%s): %v; it is not in the cache %s either", s.Name, s.Where, err, c.Dir)
	}
	if sum != s.SHA256 {
		return "", fmt.Errorf("library %s (%s): %s has sha256:%s, but the pin is sha256:%s; nothing was unpacked (if the archive changed on purpose, update the pin)", s.Name, s.Where, s.Source, sum, s.SHA256)
	}
	if err := c.put(sum, data); err != nil {
		return "", fmt.Errorf("library %s (%s): %s: %v", s.Name, s.Where, s.Source, err)
	}
	return dir, nil
}

// Add fetches url, unpacks it into the cache and returns its hash: what
// "libs add" pins.
func (c *Cache) Add(ctx context.Context, url string) (string, error) {
	data, sum, err := Download(ctx, c.client(), url)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(c.Path(sum)); err == nil {
		return sum, nil
	}
	if err := c.put(sum, data); err != nil {
		return "", fmt.Errorf("%s: %v", url, err)
	}
	return sum, nil
}

// put unpacks a verified archive into the cache, atomically: into a
// temporary directory beside its place, then renamed.
func (c *Cache) put(sum string, data []byte) error {
	files, dirs, err := Unpack(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("refused to unpack: %v", err)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the cache: %v", err)
	}
	tmp, err := os.MkdirTemp(c.Dir, ".unpack-")
	if err != nil {
		return fmt.Errorf("cannot write to the cache: %v", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; else the remains
	if err := write(tmp, files, dirs); err != nil {
		return fmt.Errorf("cannot write to the cache: %v", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.Path(sum)); err != nil {
		if _, serr := os.Stat(c.Path(sum)); serr == nil {
			return nil // another run put it there first
		}
		return fmt.Errorf("cannot write to the cache: %v", err)
	}
	return nil
}

// Download fetches url (https only) and returns its body, at most MaxSize
// bytes, and the body's sha256 in hex.
func Download(ctx context.Context, client *http.Client, url string) ([]byte, string, error) {
	if len(url) < 8 || url[:8] != "https://" {
		return nil, "", fmt.Errorf("%s: want an https:// URL", url)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	client = noDowngrade(client)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("cannot fetch: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("cannot fetch %s: status %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("cannot fetch %s: %v", url, err)
	}
	if len(data) > MaxSize {
		return nil, "", fmt.Errorf("%s is more than %d MiB, the most a library archive may be", url, MaxSize>>20)
	}
	h := sha256.Sum256(data)
	return data, hex.EncodeToString(h[:]), nil
}

// noDowngrade is client, refusing redirects away from https.
func noDowngrade(client *http.Client) *http.Client {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return fmt.Errorf("redirected to %s, which is not https", req.URL.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// Open returns the root of library s as an fs.FS that nothing read through
// it can leave (an os.Root), fetching a URL library into the cache first
// if it is not there. close releases it.
func (c *Cache) Open(ctx context.Context, s Spec) (fsys fs.FS, close func() error, err error) {
	dir := s.Dir()
	if s.IsURL() {
		if dir, err = c.Ensure(ctx, s); err != nil {
			return nil, nil, err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("library %s (%s): cannot open the directory %s: %v", s.Name, s.Where, dir, err)
	}
	return root.FS(), root.Close, nil
}
