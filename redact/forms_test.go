package redact

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// forms skips an escaper for a text with no byte in the set it changes
// (quoteChanges, markupChanges, urlChanges). That holds if each escaper
// leaves every printable ASCII byte outside its set as it is.
func TestEscapersKeepBytesOutsideTheirSets(t *testing.T) {
	for b := byte(0x20); b < 0x7f; b++ {
		c := string([]byte{b})
		keeps := func(name string, set *byteSet, got string) {
			if !set[b] && got != c {
				t.Errorf("%s turns %q into %q, but %q is not in its set", name, c, got, c)
			}
		}
		j, _ := json.Marshal(c)
		keeps("json.Marshal", quoteChanges, string(j[1:len(j)-1]))
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(c)
		keeps("json.Encoder without HTML escaping", quoteChanges, strings.TrimSuffix(buf.String(), "\n")[1:buf.Len()-2])
		keeps("strconv.Quote", quoteChanges, unquote(strconv.Quote(c)))
		keeps("strconv.QuoteToASCII", quoteChanges, unquote(strconv.QuoteToASCII(c)))
		var x strings.Builder
		_ = xml.EscapeText(&x, []byte(c))
		keeps("xml.EscapeText", markupChanges, x.String())
		keeps("html.EscapeString", markupChanges, html.EscapeString(c))
		keeps("xmlNamed", markupChanges, xmlNamedReplacer.Replace(c))
		keeps("url.QueryEscape", urlChanges, url.QueryEscape(c))
		keeps("url.PathEscape", urlChanges, url.PathEscape(c))
		keeps("userinfo", urlChanges, strings.TrimPrefix(url.UserPassword("u", c).String(), "u:"))
		keeps("URL path", urlChanges, (&url.URL{Path: c}).EscapedPath())
		keeps("URL host", urlChanges, strings.TrimPrefix((&url.URL{Host: c}).String(), "//"))
		keeps("URL fragment", urlChanges, (&url.URL{Fragment: c}).EscapedFragment())
	}
}

func unquote(q string) string { return q[1 : len(q)-1] }
