import { connectDesktop } from "./desktop.js";
import { onLiveUpdate } from "./live.js";

const root = document.getElementById("session");
const kasmId = root.dataset.kasmId;
const desktop = document.getElementById("session-desktop");
const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
const FINAL = ["error", "deleted", "deleting"];
const RESUMABLE = ["paused", "stopped"];
let disconnectDesktop = null;

function show(status, message) {
  root.dataset.status = status;
  document.getElementById("session-status").textContent = status;
  document.getElementById("session-message").textContent = message || "";
  if (status === "running" && desktop.hidden) {
    desktop.hidden = false;
    disconnectDesktop = connectDesktop(desktop, { path: desktop.dataset.path, viewOnly: false, onIdle: showIdleNotice });
    const sharePanel = document.getElementById("share-panel"); // absent for a browser that came by a link
    if (sharePanel) sharePanel.hidden = false;
    document.getElementById("session-progress").hidden = true;
  }
  if (status !== "running" && !desktop.hidden) {
    // Paused, stopped or ended: the page says so (and why) instead of a desktop that cannot answer.
    disconnectDesktop?.();
    desktop.hidden = true;
    disconnectDesktop = null;
    document.getElementById("session-progress").hidden = false;
  }
  const ended = FINAL.includes(status);
  document.getElementById("session-resume").hidden = !RESUMABLE.includes(status);
  for (const note of document.querySelectorAll("#session-resume [data-when]")) note.hidden = note.dataset.when !== status;
  for (const action of document.querySelectorAll(".session-actions [data-when]")) {
    action.hidden = !action.dataset.when.split(" ").includes(status);
  }
  document.querySelector(".session-actions").hidden = ended;
  document.getElementById("session-ended").hidden = !ended;
  if (ended) document.getElementById("session-ended-reason").textContent = message || "";
  document.getElementById("session-progressbar").hidden = RESUMABLE.includes(status) || ended;
}

// The proxy closed the desktop after the idle time the user's groups allow: offer to reconnect.
function showIdleNotice(reconnect) {
  const notice = document.getElementById("idle-notice");
  notice.hidden = false;
  document.getElementById("reconnect").onclick = () => {
    notice.hidden = true;
    reconnect();
  };
}

async function poll() {
  let state;
  try {
    const response = await fetch(`/session/${kasmId}/status/`, { credentials: "same-origin" });
    state = response.ok ? await response.json() : null;
  } catch (error) {
    state = null; // a network blip: ask again shortly
  }
  if (state) show(state.status, state.message);
  const settled = ["running", ...RESUMABLE, ...FINAL];
  if (!state || !settled.includes(state.status)) setTimeout(poll, 1000);
}

onLiveUpdate("session.", (message) => {
  if (message.payload.kasm_id === kasmId) show(message.payload.status, message.payload.message);
});
poll();

// Keep the session alive while this tab is open.
setInterval(() => {
  if (root.dataset.status === "running") {
    fetch(`/session/${kasmId}/keepalive/`, { method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin" })
      .catch(() => {}); // the next keepalive, a minute later, tries again
  }
}, 60_000);
