package process

import (
	"net"
	"net/http"
	"os"
	"strings"
)

// Request is what a child's CGI environment describes: the HTTP request
// that opened the connection and how wsgate mapped it to the program.
type Request struct {
	HTTP       *http.Request
	ScriptName string // the URL path that names the program
	PathInfo   string // the rest of the URL path
	ServerName string
	ServerPort string
	RemoteHost string // REMOTE_HOST; empty means the client's address
	ID         string // unique per connection, as UNIQUE_ID
	TLS        bool
	Software   string // SERVER_SOFTWARE, e.g. "wsgate/1.0.0"
	// OmitAuthorization leaves out the Authorization header: set it when
	// the server checked the credentials itself (RFC 3875 4.1.18).
	OmitAuthorization bool
	Extra             []string
}

// CGIEnv builds a child's environment in the style of CGI (RFC 3875):
// request meta-variables, HTTP_<NAME> for every request header, and of
// wsgate's own environment only the variables named in passEnv. Request data
// only ever reaches the environment, never argv or a shell.
func CGIEnv(req Request, passEnv []string) []string {
	r := req.HTTP
	remoteHost, remotePort, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remoteHost = r.RemoteAddr
	}
	if req.RemoteHost == "" {
		req.RemoteHost = remoteHost
	}
	env := make([]string, 0, 24+len(r.Header)+len(passEnv))
	for _, name := range passEnv {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	env = append(env,
		"SERVER_SOFTWARE="+req.Software,
		"GATEWAY_INTERFACE=CGI/1.1",
		"SERVER_NAME="+req.ServerName,
		"SERVER_PORT="+req.ServerPort,
		"SERVER_PROTOCOL="+r.Proto,
		"REQUEST_METHOD="+r.Method,
		"REQUEST_URI="+r.RequestURI,
		"SCRIPT_NAME="+req.ScriptName,
		"PATH_INFO="+req.PathInfo,
		"QUERY_STRING="+r.URL.RawQuery,
		"REMOTE_ADDR="+remoteHost,
		"REMOTE_HOST="+req.RemoteHost,
		"REMOTE_PORT="+remotePort,
		"UNIQUE_ID="+req.ID,
	)
	if req.TLS {
		env = append(env, "HTTPS=on")
	}
	for name, values := range r.Header {
		key := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		// "Proxy: x" would become HTTP_PROXY, which many HTTP clients
		// obey as their proxy setting (the httpoxy attack): never pass it.
		if key == "HTTP_PROXY" || (key == "HTTP_AUTHORIZATION" && req.OmitAuthorization) {
			continue
		}
		env = append(env, key+"="+strings.Join(values, ", "))
	}
	// net/http moves Host out of the header map; CGI wants it back.
	env = append(env, "HTTP_HOST="+r.Host)
	return append(env, req.Extra...)
}
