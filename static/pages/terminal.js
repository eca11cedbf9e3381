// The terminal page (terminal.html): xterm.js on a WebSocket to wsgate's
// --terminal protocol, at the same path as the page.
//
// Client to server: keystrokes as binary messages, and JSON commands in text
// messages: {"type":"resize","cols":C,"rows":R} whenever the terminal's size
// changes, {"type":"pause"} and {"type":"resume"} for flow control.
// Server to client: terminal output in binary messages, then a close frame
// whose code (1000, or 1011 with "exit status N" / "signal NAME") is shown.
// When the server has --resume, the connection is resumable
// (wsgate.resumable): a lost connection is taken back on its own, and a
// reload of the page returns to the same program with its output replayed.
// With --shared, also text messages of who is attached (showPresence).
"use strict";
(() => {
  const statusEl = document.getElementById("status");
  const sizeEl = document.getElementById("size");

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  if (typeof Terminal !== "function" || typeof FitAddon !== "object") {
    setStatus("failed", "cannot load xterm.js from /.wsgate/vendor/xterm/");
    return;
  }

  // Flow control: bytes handed to term.write whose write callback has not run
  // yet, i.e. not yet parsed into the terminal. Above HIGH_WATER we ask wsgate
  // to stop reading the program's output; below LOW_WATER, to resume. This
  // bounds what a slow browser makes wsgate (and the browser) buffer.
  const HIGH_WATER = 512 * 1024;
  const LOW_WATER = 64 * 1024;

  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    // At 1.0 the DOM renderer clips what a font draws below the cell, such
    // as DejaVu Sans Mono's underscore: "a_b" would show as "a b".
    lineHeight: 1.15,
    scrollback: 5000,
    theme: { background: "#1e1e1e", foreground: "#d4d4d4", cursor: "#d4d4d4" },
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById("terminal"));
  window.wsgateTerm = term; // for tests and the console

  const encoder = new TextEncoder();
  const url = wsgate.endpointFor(location.pathname + location.search);
  let conn = null; // wsgate.resumable's connection
  let pending = 0; // bytes written but not yet rendered
  let paused = false; // we sent "pause" and not yet "resume"
  let sentSize = ""; // the last size sent, "COLSxROWS"
  // Flow-control state and counters, for tests and the curious.
  const flow = {
    pauses: 0, resumes: 0, maxPending: 0,
    get pending() { return pending; },
    get paused() { return paused; },
  };
  window.wsgateFlow = flow;

  function isOpen() {
    const socket = conn && conn.socket();
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function sendCommand(cmd) {
    if (isOpen()) conn.send(JSON.stringify(cmd));
  }

  // sendSize tells the program the terminal's size, unless it already knows.
  function sendSize() {
    const size = term.cols + "x" + term.rows;
    sizeEl.textContent = size;
    if (!isOpen() || size === sentSize) return;
    sentSize = size;
    sendCommand({ type: "resize", cols: term.cols, rows: term.rows });
  }

  // refit sizes the terminal to the window, then reports the size.
  function refit() {
    try {
      fit.fit();
    } catch (e) {
      // Not laid out (e.g. a hidden tab): keep the current size.
    }
    sendSize();
  }

  let refitTimer = 0;
  function refitSoon() {
    clearTimeout(refitTimer);
    refitTimer = setTimeout(refit, 60);
  }
  window.addEventListener("resize", refitSoon);
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(refitSoon).observe(document.getElementById("terminal"));
  }
  term.onResize(sendSize);
  refit();

  term.onData((data) => {
    if (isOpen()) conn.send(encoder.encode(data));
  });
  // Some mouse reports are bytes, not UTF-8 text: send them as they are.
  term.onBinary((data) => {
    if (isOpen()) conn.send(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff));
  });
  term.onTitleChange((title) => {
    document.title = title ? title + " — wsgate" : "wsgate terminal";
  });

  function output(data) {
    const n = typeof data === "string" ? data.length : data.byteLength;
    pending += n;
    if (pending > flow.maxPending) flow.maxPending = pending;
    term.write(data, () => {
      pending -= n;
      if (paused && pending < LOW_WATER) {
        paused = false;
        flow.resumes++;
        sendCommand({ type: "resume" });
      }
    });
    if (!paused && pending > HIGH_WATER) {
      paused = true;
      flow.pauses++;
      sendCommand({ type: "pause" });
    }
  }

  // showPresence shows who shares the terminal (--terminal --shared):
  // {"type":"presence","you":ID,"clients":[{"id":ID,"writer":BOOL},...]}.
  // It reports false for any other text message.
  function showPresence(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (e) { return false; }
    if (!msg || msg.type !== "presence" || !Array.isArray(msg.clients)) return false;
    const me = msg.clients.find((c) => c.id === msg.you);
    const others = msg.clients.length - 1;
    const who = document.getElementById("who");
    who.textContent = (others > 0 ? others + " other" + (others > 1 ? "s" : "") + " attached · " : "alone · ") +
      (me && me.writer ? "you may type" : "view only");
    who.title = msg.clients.map((c) => c.id + (c.writer ? " (writer)" : " (viewer)") + (c.id === msg.you ? " ← you" : "")).join("\n");
    who.dataset.writer = me && me.writer ? "yes" : "no";
    who.dataset.clients = String(msg.clients.length);
    term.options.disableStdin = !(me && me.writer);
    return true;
  }

  function describeClose(ev) {
    let text = "connection closed: code " + ev.code;
    if (ev.reason) text += " (" + ev.reason + ")";
    if (!ev.wasClean) text += ", not clean";
    return "[" + text + "]";
  }

  function connect() {
    setStatus("connecting", "connecting to " + url);
    conn = wsgate.resumable(url, {
      open() {
        setStatus("connected", "connected");
        sentSize = "";
        refit();
        if (paused) sendCommand({ type: "pause" }); // a new connection starts unpaused
      },
      message(data) {
        if (typeof data === "string" && showPresence(data)) return;
        output(typeof data === "string" ? data : new Uint8Array(data));
      },
      // The output missed would have drawn part of the screen: start from a
      // blank one rather than a garbled one.
      gap(lost) {
        term.reset();
        term.write("\x1b[1;33m[" + lost + " messages of output were lost: the server no longer kept them]\x1b[0m\r\n");
      },
      retry(ev, delay) {
        setStatus("connecting", "connection lost; reconnecting in " + (delay / 1000).toFixed(1) + " s");
      },
      close: closed,
    });
  }

  function closed(ev) {
    const text = describeClose(ev);
    // Written after all output (term.write keeps order), on a line of its own.
    term.write("\x1b[0m\r\n\x1b[1;33m" + text + "\x1b[0m\r\n");
    term.options.cursorBlink = false;
    term.options.disableStdin = true;
    setStatus(ev.code === 1000 ? "closed" : "failed", text);
  }

  connect();
  term.focus();
  document.getElementById("terminal").addEventListener("mousedown", () => term.focus());
})();
