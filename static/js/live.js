// Live updates pushed by the server (apps/common/realtime.py) over /ws/live/, reconnecting on loss.
export function onLiveUpdate(topicPrefix, callback) {
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/live/`);
    socket.addEventListener("open", () => { delay = 1000; document.body.dataset.live = "connected"; });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.topic.startsWith(topicPrefix)) callback(message);
    });
    socket.addEventListener("close", () => {
      document.body.dataset.live = "disconnected";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
}

// Collapse bursts of pushes (many agents checking in) into one refresh per interval.
export function throttled(refresh, intervalMs = 1000) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      // A failed refresh keeps the page as it is; the next push refreshes again.
      Promise.resolve(refresh()).catch((error) => console.warn("live refresh failed:", error));
    }, intervalMs);
  };
}

export async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}
