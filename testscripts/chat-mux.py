#!/usr/bin/env python3
"""A chat with rooms for wsgate --mux: one program serves every client.

    wsgate --mux ./testscripts/chat-mux.py
    connect to ws://localhost:8080/?room=NAME&nick=NAME

Each line a client sends goes to everyone in its room; joins and leaves
are announced. The protocol is in the README ("--mux: the protocol")."""
import json
import sys
from urllib.parse import parse_qs

people = {}  # conn -> (room, nick)


def tell_room(room, text):
    to = [c for c, (r, _) in people.items() if r == room]
    print(json.dumps({"to": to, "data": text}), flush=True)


for line in sys.stdin:
    ev = json.loads(line)
    conn = ev["conn"]
    if ev["event"] == "open":
        query = parse_qs(ev["env"].get("QUERY_STRING", ""))
        people[conn] = (query.get("room", ["lobby"])[0], query.get("nick", [conn[:6]])[0])
        tell_room(people[conn][0], "* %s joined" % people[conn][1])
    elif ev["event"] == "message" and not ev.get("binary"):
        tell_room(people[conn][0], "%s: %s" % (people[conn][1], ev["data"]))
    elif ev["event"] == "close":
        room, nick = people.pop(conn)
        tell_room(room, "* %s left" % nick)
