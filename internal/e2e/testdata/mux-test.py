#!/usr/bin/env python3
# A --mux program for the tests: it reports every event to everyone, as
# "open ID PATH_INFO QUERY_STRING", "message ID DATA" and
# "close ID CODE", and carries out what a client asks:
#   "to ID,ID TEXT"  sends TEXT to those connections only
#   "bad"            prints a line that is not JSON, then "after bad" to all
#   "bye ID"         closes ID with 4000 "bye"
import json
import sys


def out(obj):
    print(json.dumps(obj), flush=True)


for line in sys.stdin:
    ev = json.loads(line)
    conn = ev["conn"]
    if ev["event"] == "open":
        env = ev["env"]
        out({"to": "*", "data": "open %s %s %s" % (conn, env.get("PATH_INFO"), env.get("QUERY_STRING"))})
    elif ev["event"] == "close":
        out({"to": "*", "data": "close %s %d" % (conn, ev["code"])})
    else:
        data = ev["data"]
        if data.startswith("to "):
            _, ids, text = data.split(" ", 2)
            out({"to": ids.split(","), "data": text})
        elif data == "bad":
            print("this is not JSON", flush=True)
            out({"to": "nobody", "data": "lost"})
            out({"to": "*", "data": "after bad"})
        elif data.startswith("bye "):
            out({"close": data[4:], "code": 4000, "reason": "bye"})
        else:
            out({"to": "*", "data": "message %s %s" % (conn, data)})
