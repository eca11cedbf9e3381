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
    socket.onmessage = (ev) => handlers.message(wsgate.describeData(ev.data));
    socket.onclose = (ev) => handlers.close && handlers.close(ev);
    return socket;
  },

  // describeData is a message as text: binary ones as their bytes in hex.
  describeData(data) {
    if (typeof data === "string") return data;
    const bytes = Array.from(new Uint8Array(data), (b) => b.toString(16).padStart(2, "0"));
    return "[binary, " + bytes.length + " bytes] " + bytes.join(" ");
  },

  // serverConfig is what GET /.wsgate/config.json says the server offers
  // ({"resume":true,"resumeSeconds":30} with --resume), or {} if it cannot
  // be read.
  async serverConfig() {
    try {
      const r = await fetch("/.wsgate/config.json", { cache: "no-store" });
      return r.ok ? await r.json() : {};
    } catch (e) {
      return {};
    }
  },

  // resumable connects to url and keeps the session through lost
  // connections when the server has --resume (see the README's "Resumable
  // sessions"); otherwise it is one plain connection. Each tab names its
  // session with a random token of its own, kept in sessionStorage for url,
  // and counts the messages it receives. After a drop (close 1006) it
  // reconnects with ?resume=TOKEN&seen=N, waiting 0.25 s, 0.5 s, 1 s, ... up
  // to 5 s between tries, for as long as the server keeps the session. A
  // page load connects with seen=0, so a reload gets again all the output
  // the server still keeps; when it no longer keeps the beginning (close
  // 4101 "seen too old; resume from K"), the tab takes it from message K+1
  // and handlers.gap(lost) says how many it missed.
  //
  // handlers: open(socket, resumed), message(data), gap(lost),
  // retry(ev, delayMs), close(ev) once the connection is over for good.
  // It returns {send(data), close(code, reason), socket()}.
  resumable(url, handlers) {
    let socket = null, seen = 0, resumed = false, over = false, leaving = false;
    let token = "", keepMs = 0, lostAt = 0, delay = 250;
    addEventListener("pagehide", () => { leaving = true; });
    const conn = {
      send(data) { if (socket && socket.readyState === WebSocket.OPEN) socket.send(data); },
      close(code, reason) {
        over = true;
        if (socket && socket.readyState <= WebSocket.OPEN) {
          socket.close(code, reason);
        } else if (handlers.close) { // between two tries: nothing to close
          handlers.close({ code: code, reason: reason, wasClean: true });
        }
      },
      socket() { return socket; },
    };
    const target = () => {
      if (!token) return url;
      return url + (url.includes("?") ? "&" : "?") + "resume=" + token + "&seen=" + seen;
    };
    const open = () => {
      if (over) return;
      socket = new WebSocket(target());
      socket.binaryType = "arraybuffer";
      socket.onopen = () => {
        lostAt = 0;
        delay = 250;
        handlers.open && handlers.open(socket, resumed);
        resumed = true;
      };
      socket.onmessage = (ev) => { seen++; handlers.message(ev.data); };
      socket.onclose = (ev) => {
        const from = /^seen too old; resume from (\d+)$/.exec(ev.reason);
        if (token && !over && !leaving && ev.code === 4101 && from && Number(from[1]) > seen) {
          handlers.gap && handlers.gap(Number(from[1]) - seen);
          seen = Number(from[1]);
          open();
          return;
        }
        if (token && !over && !leaving && ev.code === 1006) {
          lostAt = lostAt || Date.now();
          if (Date.now() - lostAt < keepMs) {
            handlers.retry && handlers.retry(ev, delay);
            setTimeout(open, delay);
            delay = Math.min(delay * 2, 5000);
            return;
          }
        }
        socket = null;
        handlers.close && handlers.close(ev);
      };
    };
    wsgate.serverConfig().then((cfg) => {
      if (cfg.resume) {
        keepMs = cfg.resumeSeconds * 1000;
        token = wsgate.sessionToken(url);
      }
      open();
    });
    return conn;
  },

  // sessionToken is this tab's token for url: made once, at random (24
  // bytes, 32 characters of base64url), and kept in sessionStorage, so that
  // a reload of the tab finds its session.
  sessionToken(url) {
    const key = "wsgate-resume " + url;
    let token = sessionStorage.getItem(key);
    if (!token) {
      const bytes = crypto.getRandomValues(new Uint8Array(24));
      token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
      sessionStorage.setItem(key, token);
    }
    return token;
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
