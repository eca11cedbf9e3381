package launch

import "testing"

func TestParseAddrsReadsEveryKindOfListeningLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want Addrs
	}{
		{"wsgate dev listening on ws://127.0.0.1:8080/",
			Addrs{URL: "ws://127.0.0.1:8080", Scheme: "ws", HostPort: "127.0.0.1:8080", Port: "8080"}},
		{"wsgate v1 listening on wss://[::1]:8443/ wss://127.0.0.1:8444/ (redirect) http://127.0.0.1:8081/",
			Addrs{URL: "wss://[::1]:8443", Scheme: "wss", HostPort: "[::1]:8443", Port: "8443", RedirectPort: "8081"}},
		{"wsgate dev listening on unix:/tmp/ws.sock",
			Addrs{Socket: "/tmp/ws.sock"}},
		{"wsgate dev listening on unix:/tmp/a.sock ws://127.0.0.1:1/ unix:/tmp/b.sock",
			Addrs{URL: "ws://127.0.0.1:1", Scheme: "ws", HostPort: "127.0.0.1:1", Port: "1", Socket: "/tmp/a.sock"}},
		{"ceiling listening on ws://127.0.0.1:9/",
			Addrs{URL: "ws://127.0.0.1:9", Scheme: "ws", HostPort: "127.0.0.1:9", Port: "9"}},
	} {
		got, err := ParseAddrs(c.line)
		if err != nil || got != c.want {
			t.Errorf("ParseAddrs(%q) = %+v, %v\nwant %+v", c.line, got, err, c.want)
		}
	}
	for _, line := range []string{"wsgate dev", "wsgate dev listening on (redirect) http://127.0.0.1:1/", "x listening on ws://nohost/"} {
		if got, err := ParseAddrs(line); err == nil {
			t.Errorf("ParseAddrs(%q) = %+v, want an error", line, got)
		}
	}
}

func TestAddrsHTTPFollowsTheScheme(t *testing.T) {
	if got := (Addrs{Scheme: "wss", HostPort: "h:1"}).HTTP(); got != "https://h:1" {
		t.Errorf("wss: %q", got)
	}
	if got := (Addrs{Scheme: "ws", HostPort: "h:1"}).HTTP(); got != "http://h:1" {
		t.Errorf("ws: %q", got)
	}
}
