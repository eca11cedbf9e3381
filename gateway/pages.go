package gateway

import (
	"log/slog"
	"net/http"
	"net/http/cgi"

	"wsgate/static"
)

// Plain HTTP requests (anything but an upgrade) get the pages: a CGI
// program under --cgidir, a file of --staticdir, or the built-in console or
// terminal page of the mode.

// newPages sets up what plain HTTP GETs get: --staticdir, or the built-in
// pages.
func (s *Server) newPages() (err error) {
	if s.cfg.StaticDir == "" {
		s.pages = static.Builtin(s.cfg.Mode.spec().page)
		return nil
	}
	s.pages, err = static.Dir(s.cfg.StaticDir, s.log)
	return err
}

// servePlain answers a plain HTTP request: a CGI program under --cgidir, a
// file of --staticdir, or a built-in page. In --dir mode the built-in
// console is only for paths that name a program, and / lists them.
func (s *Server) servePlain(w http.ResponseWriter, r *http.Request, remoteUser string) {
	if r.URL.Path == pageConfigPath {
		s.servePageConfig(w) // pageconfig.go
		return
	}
	if s.cgiRouter != nil && !static.IsAsset(r.URL.Path) { // a dot name is never a program
		ep, err := s.cgiRouter.route(r.URL.Path)
		if err == nil {
			s.serveCGI(w, r, ep, remoteUser)
			return
		}
		if isEscape(err) {
			s.log.Info("request refused: outside --cgidir", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
			http.NotFound(w, r)
			return
		}
		if s.cgiOwnsPath(r.URL.Path) {
			s.log.Debug("no CGI program", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
			http.NotFound(w, r)
			return
		}
	}
	if s.dirRouter != nil && s.cfg.StaticDir == "" && !static.IsAsset(r.URL.Path) {
		if r.URL.Path == "/" {
			static.ServeIndex(w, r, s.dirRouter.endpoints(1000, 8))
			return
		}
		if _, err := s.dirRouter.route(r.URL.Path); err != nil {
			if isEscape(err) {
				s.log.Info("request refused: outside --dir", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
			} else {
				s.log.Debug("no endpoint", "path", r.URL.Path, "reason", err)
			}
			http.NotFound(w, r)
			return
		}
	}
	s.pages.ServeHTTP(w, r)
}

// cgiOwnsPath reports whether a path that names no CGI program is a
// missing one (404). With --cgidir and a COMMAND, the CGI programs own every
// plain HTTP path but two kinds that keep the built-in pages: / (the
// console, unless DIR has an index program) and the pages' own assets.
// With --staticdir the files answer instead, and with --dir its programs'
// paths keep their console.
func (s *Server) cgiOwnsPath(urlPath string) bool {
	return s.dirRouter == nil && s.cfg.StaticDir == "" && urlPath != "/"
}

// serveCGI runs a --cgidir program for one HTTP request (RFC 3875).
func (s *Server) serveCGI(w http.ResponseWriter, r *http.Request, ep endpoint, remoteUser string) {
	env := []string{"SERVER_SOFTWARE=wsgate/" + s.cfg.Version}
	if remoteUser != "" {
		env = append(env, "REMOTE_USER="+remoteUser, "AUTH_TYPE=Basic")
		r.Header.Del("Authorization") // checked here; not the program's to see
	}
	env = append(env, clientCertEnv(r, remoteUser)...)
	h := &cgi.Handler{
		Path:       ep.Program,
		Root:       ep.ScriptName,
		Env:        env,
		InheritEnv: s.cfg.PassEnv,
		Logger:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	h.ServeHTTP(w, r)
}
