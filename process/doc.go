// Package process starts and stops the child program behind one WebSocket
// connection. It knows processes, not WebSockets:
//
//   - Start runs a program in its own process group with three pipes and the
//     CGI-style environment that CGIEnv builds from the HTTP request;
//   - Stop ends the whole group in the order users rely on: stdin closed at
//     once, SIGTERM after a grace period, SIGKILL after a second one, and the
//     child always reaped;
//   - ExitStatus says how the child ended;
//   - LineReader splits the child's output into lines with bounded memory.
//
// Every child gets its own process group so that grandchildren (a shell's
// pipeline, a script's background job) are stopped with it: nothing started
// for a connection outlives the connection.
package process
