package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// Dot segments. wsgate's Server is the handler itself, with no ServeMux
// cleaning paths in front of it, and net/http hands over the path as the
// client wrote it, percent-decoded: "/a/%2e%2e/b" arrives as "/a/../b". A
// path with "." or ".." segments is never served as written, whatever
// serves it (the COMMAND's PATH_INFO, --dir, --cgidir, --staticdir, the
// built-in pages):
//
//	plain HTTP, stays inside the root   301 to the cleaned path, query kept
//	plain HTTP, climbs above the root   400
//	WebSocket upgrade                   404 (a client does not follow a
//	                                    redirect of its upgrade)

// cleanURLPath resolves the dot segments of p. It reports whether p had
// any, and whether resolving them climbs above the root. Empty segments are
// dropped with them ("/a//../b" is "/b"), and a final slash is kept.
func cleanURLPath(p string) (clean string, dotted, above bool) {
	segments := strings.Split(p, "/")
	kept := make([]string, 0, len(segments))
	for _, seg := range segments {
		switch seg {
		case ".":
			dotted = true
		case "..":
			dotted = true
			if len(kept) == 0 {
				above = true
			} else {
				kept = kept[:len(kept)-1]
			}
		case "":
		default:
			kept = append(kept, seg)
		}
	}
	if !dotted {
		return p, false, false
	}
	clean = "/" + strings.Join(kept, "/")
	if last := segments[len(segments)-1]; (last == "" || last == "." || last == "..") && clean != "/" {
		clean += "/"
	}
	return clean, true, above
}

// refuseDotSegments answers a request whose path has dot segments, as the
// table above says, and reports whether it did.
func (s *Server) refuseDotSegments(w http.ResponseWriter, r *http.Request, upgrade bool) bool {
	clean, dotted, above := cleanURLPath(r.URL.Path)
	switch {
	case !dotted:
		return false
	case upgrade:
		s.log.Info("upgrade refused: no program", "remote", r.RemoteAddr, "path", r.URL.Path,
			"reason", escapeAttempt(`"..": hidden names, . and .. are never served`))
		http.NotFound(w, r)
	case above:
		s.log.Info("request refused: the path climbs above the root", "remote", r.RemoteAddr, "path", r.URL.Path)
		http.Error(w, "bad request: the path climbs above the root", http.StatusBadRequest)
	default:
		target := url.URL{Path: clean, RawQuery: r.URL.RawQuery}
		s.log.Debug("redirected to the path without dot segments", "remote", r.RemoteAddr, "path", r.URL.Path, "to", clean)
		http.Redirect(w, r, target.String(), http.StatusMovedPermanently)
	}
	return true
}
