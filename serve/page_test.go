package serve

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const pageScript = `
check("web", lambda: ok("<script>alert(1)</script> & fine"), interval = "200ms")
check("disk", lambda: fail("full"), interval = "200ms")
`

func TestStatusPage(t *testing.T) {
	ts := start(t, pageScript, nil)
	ts.ready(t)
	code, page := ts.get(t, "/")
	if code != 200 {
		t.Fatalf("GET /: %d", code)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`id="check-web"`, `id="check-disk"`, `class="check fail"`, `class="check ok"`,
		"&lt;script&gt;alert(1)&lt;/script&gt; &amp; fine", "2 checks: 1 ok, 1 fail",
		`<i class="fail"></i>`, "every 200ms",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("the page holds unescaped text or an external resource:\n%s", page)
	}
	if code, _ := ts.get(t, "/nope"); code != 404 {
		t.Errorf("GET /nope: %d", code)
	}
}

// TestStatusPageInBrowser renders the page in a real headless Chromium
// and reads the DOM it built.
func TestStatusPageInBrowser(t *testing.T) {
	var bin string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium installed (Debian: apt-get install chromium, as .ci/run does); skipping the headless-browser check of the status page")
	}
	ts := start(t, pageScript, nil)
	ts.ready(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--window-size=390,844", "--dump-dom", ts.base+"/")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v", bin, err)
	}
	dom := string(out)
	for _, want := range []string{`id="check-web"`, `id="check-disk"`, "2 checks: 1 ok, 1 fail"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM Chromium built lacks %s:\n%s", want, dom)
		}
	}
}
