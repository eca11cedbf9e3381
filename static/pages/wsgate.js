// Shared helpers of wsgate's built-in pages.
"use strict";
const wsgate = {
  // endpointFor turns a path (with query) on this server into a ws:// or wss:// URL.
  endpointFor(pathAndQuery) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + pathAndQuery;
  },

  // endpointFromQuery is the ?url= parameter of this page, or the root endpoint.
  endpointFromQuery() {
    return new URLSearchParams(location.search).get("url") || wsgate.endpointFor("/");
  },

  // connect opens a WebSocket and reports events to handlers; binary messages
  // are shown as their bytes in hex.
  connect(url, handlers) {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => handlers.open && handlers.open();
    socket.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        handlers.message(ev.data);
      } else {
        const bytes = Array.from(new Uint8Array(ev.data), (b) => b.toString(16).padStart(2, "0"));
        handlers.message("[binary, " + bytes.length + " bytes] " + bytes.join(" "));
      }
    };
    socket.onclose = (ev) => handlers.close && handlers.close(ev);
    return socket;
  },

  // describeOpen names what the handshake agreed on: subprotocol and
  // extensions (permessage-deflate, when compression is on), or "".
  describeOpen(socket) {
    const parts = [];
    if (socket.protocol) parts.push("subprotocol " + socket.protocol);
    if (socket.extensions) parts.push("extensions " + socket.extensions);
    return parts.join(", ");
  },

  // describeClose says how a connection ended, with the close code.
  describeClose(ev) {
    let line = "closed with code " + ev.code;
    if (ev.reason) line += " (" + ev.reason + ")";
    if (!ev.wasClean) line += ", not clean";
    return line;
  },

  // log appends a timestamped line to a log element and keeps it in view.
  log(element, kind, text) {
    const row = document.createElement("div");
    row.className = "msg " + kind;
    const time = document.createElement("time");
    time.textContent = new Date().toISOString().slice(11, 23);
    const arrow = { in: "←", out: "→", info: "·", close: "×" }[kind] || "·";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    row.append(time, " " + arrow + " ", body);
    element.append(row);
    row.scrollIntoView({ block: "nearest" });
  },
};
