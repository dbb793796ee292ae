package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// staticFiles holds the script, the style sheet and the icon, served under /static/.
//
//go:embed static
var staticFiles embed.FS

// contentType is the type of an asset by its extension, fixed here rather than read from
// the system's MIME database, which differs between machines; "" for any other extension.
func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	default:
		return ""
	}
}

// asset is one embedded file with its content hash.
type asset struct {
	name        string
	body        []byte
	contentType string
	// version is the first 16 hex digits of the body's SHA-256: the pages link
	// /static/<name>?v=<version>, and the ETag is the same digits quoted.
	version string
}

// url is the asset's link, with the version that lets browsers keep it for a year.
func (a *asset) url() string { return "/static/" + a.name + "?v=" + a.version }

// mustLoadAssets reads every embedded asset; a file of a type contentType does not know is a
// programming error.
func mustLoadAssets() map[string]*asset {
	out := map[string]*asset{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err //nolint:wrapcheck // embed.FS errors name the file already
		}
		ct := contentType(path.Ext(p))
		if ct == "" {
			panic("web: no content type for the asset " + p)
		}
		sum := sha256.Sum256(body)
		name := path.Base(p)
		out[name] = &asset{name: name, body: body, contentType: ct, version: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		panic("web: read the embedded assets: " + err.Error())
	}
	return out
}

// asset serves one embedded file. The versioned URL the pages link is cacheable for a
// year (a new build has a new version); any other request revalidates with the ETag.
func (s *site) asset(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", `"`+a.version+`"`)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
