// The desktop of a session, drawn by our own copy of noVNC (never by a page the container serves).
// The proxy at /desktop/<kasm_id>/vnc/websockify authenticates to the container; the browser
// speaks RFB with security type None.
import RFB from "/static/vendor/novnc-1.7.0/core/rfb.js";

const RETRY_MS = [500, 1000, 2000, 4000, 8000];

// Connect `container` to the session's WebSocket at `path`. Viewers get a scaled, view-only
// copy; the owner's desktop is resized to fit the tab. Returns a function that disconnects.
export function connectDesktop(container, { path, viewOnly }) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.host}/${path}`;
  let rfb = null;
  let attempt = 0;
  let stopped = false;

  function open() {
    rfb = new RFB(container, url, { shared: true, wsProtocols: ["binary"] });
    rfb.viewOnly = viewOnly;
    rfb.scaleViewport = true;
    rfb.resizeSession = !viewOnly;
    rfb.addEventListener("connect", () => {
      attempt = 0;
      container.dataset.connected = "true";
    });
    rfb.addEventListener("disconnect", (event) => {
      container.dataset.connected = "false";
      if (stopped || attempt >= RETRY_MS.length) return;
      setTimeout(open, RETRY_MS[attempt++]); // a network blip, or the desktop still starting
      if (!event.detail.clean) console.info("desktop connection lost; reconnecting");
    });
  }

  open();
  return () => {
    stopped = true;
    rfb?.disconnect();
  };
}
