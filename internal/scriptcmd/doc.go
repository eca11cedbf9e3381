// Package scriptcmd holds the commands of the end-to-end scenarios, used only
// by tests: every testscripts/*.txtar file is a transcript that runs the real
// wsgate program (the root package's test binary, re-executed as "wsgate")
// against the sample backends in testscripts/ and checks what a client, an
// HTTP user and the process table see. main_test.go at the repository root
// runs them with Params.
//
// Besides testscript's built-in commands (exec, stdout, stderr, ...), a
// scenario has these (wsgate.go, ws.go, http.go, proc.go):
//
//	wsgate-start [NAME=VALUE...] [FLAGS...] COMMAND [ARGS...]
//	    start wsgate in the background on 127.0.0.1 with --port 0 and the
//	    given flags; set $URL (ws://127.0.0.1:PORT), $HTTP, $HOSTPORT and
//	    $PORT. wsgate's own environment is the scenario's as setup made it
//	    (a later env command does not reach it) plus the NAME=VALUE pairs.
//	    The server is stopped at the end of the script.
//	wsgate-stop [-signal TERM] [-status 0] [-within 10s] [SIGNAL]
//	    signal the server, wait for it to exit, check its exit status, that
//	    it took at most -within, and that its log shows no data race or panic.
//	wsgate-signal SIGNAL
//	    signal the server (TERM, INT, HUP, ...) and go on while it reacts.
//	wsgate-wait [-status 0] [-within 10s]
//	    wait for the server to exit on its own after wsgate-signal, and
//	    check it as wsgate-stop does; -within counts from the signal.
//	wsgate-log [-count=N] [-within 10s] REGEXP
//	    wait until at least N lines of the server's log (its stderr) match
//	    REGEXP and print them to stdout. With !, check that no line matches
//	    right now.
//	wsgate-run [NAME=VALUE...] ARGS...
//	    run wsgate in the foreground (at most 15 s); stdout and stderr are
//	    kept for the stdout and stderr commands. With !, it must fail.
//	ws ...
//	    a WebSocket client (github.com/coder/websocket): see ws.go.
//	http-get [-H 'Name: value']... URL
//	    GET URL (redirects are not followed) and print the response.
//	http-raw LINE...
//	    send the request LINE... (CRLF added) to $HOSTPORT and print the
//	    response.
//	proc [-within 5s] [-after 0s] TEXT
//	    wait until some process has TEXT in its command line. With !, wait
//	    until none has, and check that they were not gone sooner than -after
//	    from the start of the last ws close or ws drop.
//
// The raw-frame commands (rawws, rawtcp, ci-fail) are described in raw.go,
// the security and configuration ones (sec-start, gencert, tls-dial, ...)
// in sec.go.
//
// Every scenario gets $SCRIPTS, the absolute path of testscripts/, and
// $MARK, a string unique to the scenario run for naming processes.
package scriptcmd
