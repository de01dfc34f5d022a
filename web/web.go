// Package web holds the controller's dashboard. Its files are embedded in the controller
// binary with go:embed, so building it needs no Node and serving it needs no files on disk.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the dashboard's files with a strict Content-Security-Policy: scripts,
// styles and connections only to this origin, no framing.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The embedded tree is fixed at build time; a missing folder is a build bug.
		panic("web: embedded static folder missing: " + err.Error())
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; "+
			"style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "+
			"base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
}
