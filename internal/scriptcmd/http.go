package scriptcmd

// The plain HTTP scenario commands, http-get and http-raw. Both print a
// response as
//
//	HTTP 200
//	Content-Type: text/html; charset=utf-8
//	...(headers, sorted, without Date)
//
//	body

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const (
	httpTimeout = 10 * time.Second
	maxBody     = 1 << 20
)

func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("http-get cannot be negated; check the printed status")
	}
	header := http.Header{}
	for len(args) > 1 && args[0] == "-H" {
		k, v, ok := strings.Cut(args[1], ":")
		if !ok {
			ts.Fatalf("bad header %q", args[1])
		}
		header.Add(k, strings.TrimSpace(v))
		args = args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: http-get [-H 'Name: value']... URL")
	}
	req, err := http.NewRequest("GET", args[0], nil)
	ts.Check(err)
	req.Header = header
	client := &http.Client{
		Timeout:       httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	ts.Check(err)
	printResponse(ts, resp)
}

func cmdHTTPRaw(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("http-raw cannot be negated; check the printed status")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: http-raw REQUEST-LINE [HEADER-LINE...]")
	}
	conn, err := net.DialTimeout("tcp", ts.Getenv("HOSTPORT"), httpTimeout)
	ts.Check(err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(httpTimeout))
	_, err = io.WriteString(conn, strings.Join(args, "\r\n")+"\r\n\r\n")
	ts.Check(err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		ts.Fatalf("reading the response: %v", err)
	}
	printResponse(ts, resp)
}

func printResponse(ts *testscript.TestScript, resp *http.Response) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		ts.Fatalf("reading the response body: %v", err)
	}
	w := ts.Stdout()
	printHeader(w, resp.StatusCode, resp.Header)
	fmt.Fprintf(w, "\n%s", body)
}
