package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.org/health", "https://example.org/health"},
		{"https://example.org/h?token=abc", "https://example.org/h?token=REDACTED"},
		{"https://example.org/h?a=1&b=2&a=3", "https://example.org/h?a=REDACTED&b=REDACTED&a=REDACTED"},
		{"https://example.org/h?justatoken", "https://example.org/h?REDACTED"},
		{"https://example.org/h?a=&b", "https://example.org/h?a=REDACTED&REDACTED"},
		{"https://example.org/h?", "https://example.org/h?"},
		{"https://user:pw@example.org/", "https://user:REDACTED@example.org/"},
		{"https://ghp_token@example.org/", "https://REDACTED@example.org/"},
		{"https://example.org/cb#access_token=x", "https://example.org/cb#REDACTED"},
		{"https://example.org/cb#", "https://example.org/cb#"},
		{"https://example.org/cb#x?y=1", "https://example.org/cb#REDACTED"},
		{"http://127.0.0.1:8080/p/q?x=%20y", "http://127.0.0.1:8080/p/q?x=REDACTED"},
		{"/relative?token=abc", "/relative?token=REDACTED"},
		{"", ""},
		// Text url.Parse refuses is redacted all the same.
		{"http://u:p w@host/?token=a b", "http://u:REDACTED@host/?token=REDACTED"},
		{"http://[::1/?token=abc", "http://[::1/?token=REDACTED"},
		// A password with an unescaped / ? or #: url.Parse fails or, worse,
		// reads "u:12" as host and port; the userinfo ends at the last @.
		{"postgres://u:pa/ss@db/x", "postgres://u:REDACTED@db/x"},
		{"https://u:12/ss@host/x", "https://u:REDACTED@host/x"},
		{"https://u:12?ss@host/x", "https://u:REDACTED@host/x"},
		{"https://u:12#ss@host/x", "https://u:REDACTED@host/x"},
		{"https://u:pa?ss@host/?t=1", "https://u:REDACTED@host/?t=REDACTED"},
		{"https://u:p#ss@host/", "https://u:REDACTED@host/"},
		{"https://u:p@ss@host/", "https://u:REDACTED@host/"},
		{"https://tok/en+x@host/", "https://REDACTED@host/"},
		// No scheme, or no "//": the userinfo starts the text.
		{"user:pw@db:5432", "user:REDACTED@db:5432"},
		{"user:pw@db:5432/app?sslpassword=x", "user:REDACTED@db:5432/app?sslpassword=REDACTED"},
		{"//u:pw@host/", "//u:REDACTED@host/"},
		{"//tok@host/", "//REDACTED@host/"},
		// An @ meant for the path or query takes the host with it: too much
		// is hidden, nothing is shown.
		{"https://host/?to=a@b.example", "https://REDACTED@b.example"},
		// The display form of a URL built with a secret.
		{"https://hooks.example/services/<secret:HOOK>", "https://hooks.example/services/<secret:HOOK>"},
		{"https://h/x?token=<secret:T>", "https://h/x?token=REDACTED"},
		{"https://<secret:U>@h/x", "https://REDACTED@h/x"},
		// Nothing to redact: the text is kept as it is, not re-escaped.
		{"https://example.org/a b/ü", "https://example.org/a b/ü"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLsIn(t *testing.T) {
	msg := `Get "http://h/x?token=s3cret": dial tcp: refused; also https://a:b@c/ and https://u:12/ss@d/`
	got := URLsIn(msg)
	for _, leak := range []string{"s3cret", ":b@", "12", "ss@"} {
		if strings.Contains(got, leak) {
			t.Errorf("URLsIn left %q: %s", leak, got)
		}
	}
	if !strings.HasPrefix(got, `Get "http://h/x?token=REDACTED": dial tcp: refused; also `) {
		t.Errorf("URLsIn changed the text around the URLs: %s", got)
	}
}
