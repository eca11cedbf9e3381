// Package cluster is the NATS side of a wsgate cluster (--cluster): it lets
// the --shared and --mux rooms and the --resume sessions span every wsgate
// instance connected to the same NATS, with one program per room in the
// whole cluster. It knows NATS, not WebSockets or programs: the gateway
// runs the program and the connections, and calls this package to decide
// who runs a room and to move the room's messages between instances.
//
// # Use
//
// Each instance makes one Cluster (New) and, for a client of a room:
//
//	lease, owner, err := c.Claim(ctx, "room:/chat/lobby")
//	if lease != nil {
//		// This instance runs the room: start the program, then serve it.
//		room, _ := c.Serve(lease, cluster.RoomOptions{ReplayMessages: 100, ReplayBytes: 1 << 20})
//		// output:  room.Publish(cluster.OpText, line)
//		// input:   for ev := range room.Events() { ... }
//		// ending:  room.Close(code, reason) when the program exits or the
//		//          instance drains; stop the program if lease.Lost() fires.
//	} else {
//		// owner runs it: attach this client to it.
//		remote, _ := c.Attach(ctx, "room:/chat/lobby", owner, cluster.AttachOptions{})
//		// output:  m, err := remote.Next(ctx); an *Ended error gives the
//		//          close code for the client
//		// input:   remote.Send(cluster.OpText, msg)
//		// leaving: remote.Detach()
//	}
//
// Attach returns ErrOwnerGone when the owner went in between: claim again.
//
// # Keys
//
// A room is named by a key "KIND:NAME": "room:/chat/lobby" for a --shared
// or --mux path, "resume:<hash of the token>" for a --resume session (never
// the token itself: keys show in NATS's tools). Subjects and KV keys may
// not hold a URL path's characters, so both use ID, the lowercase hex of
// the first 16 bytes of SHA-256(NAME): for "room:/chat/lobby" the KV key is
// "room.<ID>" and the subjects are "wsgate.room.<ID>.<suffix>".
//
// # Ownership: the KV bucket
//
// Who runs a room is decided by NATS JetStream, in the KV bucket
// "wsgate_owners" (Options.Bucket): file storage, history 1, and a TTL
// (Options.LeaseTTL, default 10 s) after which the server drops a value
// that was not written again. The value of a key is JSON:
//
//	{"instance":"<InstanceID>","key":"room:/chat/lobby"}
//
// How the bucket is used:
//   - Claim is a create (a write expecting no value): exactly one claimant
//     succeeds; the others read the owner from the value.
//   - The owner renews every TTL/3 with an update that expects its own
//     last revision, so it never overwrites another owner. A lease that
//     cannot be renewed for a TTL from the send of its last renewal is
//     lost (Lease.Lost): from then on the server may drop the key and
//     another instance may claim it, so the owner must stop the program.
//     If the key is still free when the owner gets through again (NATS
//     was restarted, say), the owner re-creates it and keeps the room.
//   - Release (Room.Close) deletes the key if it is still the owner's, so
//     the next client claims the room at once, not a TTL later.
//   - Each instance also holds "instance.<hash of its ID>" the same way,
//     for as long as it is connected: owners watch it to learn that the
//     instance of their remote clients is gone.
//   - Watch follows a key: a delete, or a value naming another owner,
//     shows at once. NATS 2.9 writes no marker when a TTL drops a value,
//     so a watcher also expects the renewals: when none came for
//     TTL + TTL/10 it reads the key, and a revision unchanged since then
//     means the owner has stopped renewing (and has itself given up).
//
// # Data paths: subjects
//
// Core NATS subjects carry the messages (no JetStream: nothing is stored);
// NATS keeps the order of one publisher's messages to each subscriber.
// Every field is a NATS header (NATS/1.0 headers, case-sensitive, in any
// order); the payload is the message's bytes, raw: binary is never
// escaped or encoded.
//
//	wsgate.<kind>.<ID>.out     owner -> every attached instance: the output
//	wsgate.<kind>.<ID>.in      attached instances -> owner: input, leave, ack
//	wsgate.<kind>.<ID>.attach  attached instance -> owner: request, with a
//	                           reply subject (an inbox) for the answer
//
// Output, one NATS message per WebSocket message, for the line "hi":
//
//	HMSG wsgate.room.<ID>.out 1 44 46\r\n
//	NATS/1.0\r\nWsgate-Seq: 7\r\nWsgate-Op: text\r\n\r\nhi\r\n
//
// (as the subscriber's connection carries it; 1 is its subscription, 44 the
// bytes of the headers, 46 of headers and payload). The headers:
//   - Wsgate-Seq: decimal, 1 for the room's first message, one more for
//     each message after it, closes included.
//   - Wsgate-Op: "text", "binary" or "close".
//   - Wsgate-Code: for "close", the WebSocket close code (decimal); the
//     payload is the reason.
//   - Wsgate-To: optional, comma-separated member IDs (--mux): only they
//     take the message; the others count its number and skip it.
//
// Input, on .in: Wsgate-Member (the member ID), Wsgate-Op ("text",
// "binary"; "leave" when the client went; "ack" with Wsgate-Seq the last
// output message the client received) and Wsgate-Seq (decimal, the
// member's own count of its inputs, from 1), then the payload. A "leave"
// may carry Wsgate-Code, the WebSocket close code the client left with,
// and then its payload is the close reason (--mux tells its program).
//
// # Attach
//
// The request on .attach has Wsgate-Member, Wsgate-Instance and, to resume
// a session, Wsgate-Seen (the number of messages the client has received);
// its payload is AttachOptions.Info. The owner answers on the reply
// subject with, in order:
//
//  1. Wsgate-Op "attached", Wsgate-Seq the number of the room's last
//     message, Wsgate-First the number of the first replayed message (0:
//     no replay); payload RoomOptions.Info. Or Wsgate-Op "refused", payload
//     "closing" (the room is ending) or "replay gone" (the output after
//     Wsgate-Seen is no longer kept: the session cannot resume without a
//     gap).
//  2. The replay, as output messages: after Wsgate-Seen when resuming,
//     else everything the room keeps (RoomOptions.ReplayMessages and
//     ReplayBytes).
//  3. Wsgate-Op "replayed".
//
// The attaching instance subscribes to .out before it asks, so nothing
// published after the owner's snapshot is missed; a message that arrives
// both ways is taken once, by its number. The owner counts the member as
// joined (EventJoined) before it answers. No answer ("no responders", the
// owner has claimed the room but not started serving yet) is retried
// until the caller's context ends or the owner is gone.
//
// # Failures
//
//   - Owner death (SIGKILL, power): its renewals stop; a TTL later the key
//     is gone and the remote clients end with 1012 "service restart"
//     (ErrOwnerGone); their next connection claims the room and starts
//     the program on a live instance. The dead side's programs are stopped
//     by its own guardian, not by the cluster.
//   - Drain or a program's exit: the owner publishes a "close" (1012
//     "service restart" when it drains, the program's close code when it
//     exits) before it deletes the key, so remote clients get that code.
//   - Partition: an owner cut off from NATS for a TTL loses its lease
//     (Lease.Lost, and a "close" 1012 is published if it still can) and
//     must stop the program, before any other instance can claim it; a
//     remote cut off from NATS gives its owner the benefit of the doubt
//     for up to 2 TTLs, then ends its clients with 1012. A NATS restart
//     shorter than a TTL costs nothing: the client reconnects (for ever,
//     every Options.ReconnectWait), renewals resume, subscriptions are
//     restored.
//   - Slow consumer: NATS drops messages for a subscriber that does not
//     keep up, either in the client (more than AttachOptions.QueueMessages
//     or QueueBytes waiting) or in the server (a connection too slow to
//     write to). Either shows as a gap in Wsgate-Seq or as nats.go's slow
//     consumer error, and that client ends with 1008 "too slow"
//     (ErrTooSlow); the others are not affected. Input lost on the way to
//     the owner shows as a gap in the member's numbers (EventInputLost).
//   - Size: a message must fit in NATS's max_payload (MaxPayload, 1 MiB
//     by default); a larger one fails to publish and its number is lost,
//     so the remote clients end as if they had dropped it.
package cluster
