package gateway

import (
	"encoding/json"
	"net/http"

	"wsgate/static"
)

// pageConfigPath is where the built-in pages (and any other page) learn
// what the server offers a client beyond plain WebSocket, as JSON:
//
//	{"resume":true,"resumeSeconds":30}
//
// resume says that the server has --resume (resumable sessions, resume.go),
// and resumeSeconds for how long it keeps a program without a connection.
// Without --resume: {"resume":false}.
const pageConfigPath = static.AssetPrefix + "config.json"

type pageConfig struct {
	Resume        bool    `json:"resume"`
	ResumeSeconds float64 `json:"resumeSeconds,omitempty"`
}

// servePageConfig answers GET /.wsgate/config.json.
func (s *Server) servePageConfig(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(pageConfig{Resume: s.cfg.Resume > 0, ResumeSeconds: s.cfg.Resume.Seconds()})
}
