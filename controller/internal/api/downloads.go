package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/downloads"
)

// listDownloads serves GET /downloads/: the agent packages on offer and the install
// command's script. No authentication: nothing here is secret, and a host being set up
// has no key yet.
func (a *API) listDownloads(c *gin.Context) {
	files, err := a.dl.List()
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"success": true, "files": files, "total": len(files),
		"install_script": a.dl.BaseURL(c.Request) + "/downloads/" + downloads.ScriptName,
	})
}

// getDownload serves GET /downloads/{file}: a package, or the install script made for
// the address the request came to.
func (a *API) getDownload(c *gin.Context) {
	name := c.Param("file")
	if name == downloads.ScriptName {
		c.Data(http.StatusOK, "text/x-shellscript; charset=utf-8",
			a.dl.Script(a.dl.BaseURL(c.Request)))
		return
	}
	err := a.dl.Serve(c.Writer, c.Request, strings.TrimPrefix(name, "/"))
	if errors.Is(err, downloads.ErrNotFound) {
		a.fail(c, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "no such download"})
		return
	}
	if err != nil {
		a.fail(c, err)
	}
}
