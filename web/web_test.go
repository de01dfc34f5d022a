package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerHeaders(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/js/main.js", "/app.css", "/img/logo.svg"} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			require.Equal(t, http.StatusOK, rec.Code)
			hdr := rec.Header()
			assert.Equal(t, ContentSecurityPolicy, hdr.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"))
			assert.Equal(t, "DENY", hdr.Get("X-Frame-Options"))
			assert.Equal(t, "no-referrer", hdr.Get("Referrer-Policy"))
			etag := hdr.Get("ETag")
			require.Regexp(t, `^"[0-9a-f]{24}"$`, etag)

			// The same file again costs no body.
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("If-None-Match", etag)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusNotModified, rec.Code)
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

// TestPolicyIsStrict pins what the policy must never allow.
func TestPolicyIsStrict(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:",
		"https:", "data: 'self'"} {
		assert.NotContains(t, strings.ReplaceAll(ContentSecurityPolicy, "img-src 'self' data:",
			""), bad)
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "object-src 'none'",
		"frame-ancestors 'none'", "base-uri 'none'", "require-trusted-types-for 'script'"} {
		assert.Contains(t, ContentSecurityPolicy, want)
	}
}

// TestSourcesKeepThePolicy reads every file of the dashboard for what the policy
// would refuse at run time (inline script, inline handlers and styles, eval) and for
// what the design rules out (HTML strings, secrets in web storage).
func TestSourcesKeepThePolicy(t *testing.T) {
	sub, err := fs.Sub(static, "static")
	require.NoError(t, err)
	htmlBad := map[string]*regexp.Regexp{
		"inline script":  regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`),
		"script w/o src": regexp.MustCompile(`<script(?:(?:\s+[a-z-]+="[^"]*")*)\s*>`),
		"event handler":  regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		"style attr":     regexp.MustCompile(`(?i)\sstyle\s*=`),
		"inline style":   regexp.MustCompile(`(?i)<style`),
	}
	jsBad := map[string]*regexp.Regexp{
		"eval":         regexp.MustCompile(`\beval\s*\(`),
		"Function":     regexp.MustCompile(`new\s+Function\b`),
		"string timer": regexp.MustCompile(`set(?:Timeout|Interval)\s*\(\s*["'` + "`" + `]`),
		"HTML string":  regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write`),
		"style attr":   regexp.MustCompile(`setAttribute\(\s*["']style`),
		"web storage":  regexp.MustCompile(`localStorage|sessionStorage|indexedDB|document\.cookie`),
	}
	files := 0
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		checks := map[string]*regexp.Regexp{}
		switch {
		case strings.HasSuffix(p, ".html"):
			checks = htmlBad
		case strings.HasSuffix(p, ".js"):
			checks = jsBad
		}
		for what, re := range checks {
			if what == "script w/o src" && !strings.Contains(string(raw), "<script") {
				continue
			}
			for _, m := range re.FindAllString(string(raw), -1) {
				if what == "script w/o src" && strings.Contains(m, "src=") {
					continue
				}
				t.Errorf("%s: %s: %q", p, what, m)
			}
		}
		files++
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 10, "the dashboard's files were read")
}
