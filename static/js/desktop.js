// The desktop of a session, drawn by our own copy of noVNC (never by a page the container serves).
// The proxy at /desktop/<kasm_id>/vnc/websockify authenticates to the container; the browser
// speaks RFB with security type None.
import RFB from "/static/vendor/novnc-1.7.0/core/rfb.js";

const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const CLOSE_IDLE = 4408; // apps/common/close_codes.py: no input for the idle time the owner's groups allow

// Connect `container` to the session's WebSocket at `path`. Viewers get a scaled, view-only
// copy; the owner's desktop is resized to fit the tab unless `followTab` is false (a workspace
// with a fixed desktop size: it is scaled to fit instead). When the proxy closes an idle desktop,
// `onIdle(reconnect)` is called instead of retrying; text the session copies goes to
// `onClipboard(text)`. Returns { disconnect(), paste(text) }, paste sending text to the
// session's clipboard.
export function connectDesktop(container, { path, viewOnly, followTab = true, onIdle, onClipboard }) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.host}/${path}`;
  let rfb = null;
  let attempt = 0;
  let stopped = false;

  function open() {
    // Our own socket, handed to noVNC, so that the close code says why the proxy ended it.
    const early = takeEarlySocket(container);
    const socket = early?.socket ?? new WebSocket(url, ["binary"]);
    let closeCode = 0;
    socket.addEventListener("close", (event) => {
      closeCode = event.code;
    });
    rfb = new RFB(container, socket, { shared: true });
    rfb.viewOnly = viewOnly;
    rfb.scaleViewport = true;
    rfb.resizeSession = !viewOnly && followTab;
    // noVNC has replaced the early socket's handler; it reads what arrived before, first (a
    // microtask: no later message can be dispatched before it).
    if (early) queueMicrotask(() => early.held.forEach((event) => socket.onmessage(event)));
    if (onClipboard) rfb.addEventListener("clipboard", (event) => onClipboard(event.detail.text));
    rfb.addEventListener("connect", () => {
      attempt = 0;
      container.dataset.connected = "true";
    });
    rfb.addEventListener("disconnect", (event) => {
      container.dataset.connected = "false";
      if (closeCode === CLOSE_IDLE && onIdle) {
        onIdle(() => {
          attempt = 0;
          open();
        });
        return;
      }
      if (stopped || attempt >= RETRY_MS.length) return;
      setTimeout(open, RETRY_MS[attempt++]); // a network blip, or the desktop still starting
      if (!event.detail.clean) console.info("desktop connection lost; reconnecting");
    });
  }

  open();
  return {
    disconnect() {
      stopped = true;
      rfb?.disconnect();
    },
    paste(text) {
      rfb?.clipboardPasteFrom(text);
    },
  };
}

// The socket the session page opened before its modules loaded (templates/sessions/session.html),
// once, while it can still connect; null otherwise.
function takeEarlySocket(container) {
  const early = container.earlySocket;
  delete container.earlySocket;
  const usable = [WebSocket.CONNECTING, WebSocket.OPEN];
  return early && usable.includes(early.socket.readyState) ? early : null;
}
