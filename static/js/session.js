import { connectDesktop } from "./desktop.js";
import { initFiles } from "./files.js";
import { onLiveUpdate } from "./live.js";

const root = document.getElementById("session");
const kasmId = root.dataset.kasmId;
const desktop = document.getElementById("session-desktop");
const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
const FINAL = ["error", "deleted", "deleting"];
const RESUMABLE = ["paused", "stopped"];
const SETTLED = ["running", ...RESUMABLE, ...FINAL];
let connection = null; // the desktop's, while it shows
const clipboardText = document.getElementById("clipboard-text");

function show(status, message) {
  root.dataset.status = status;
  document.getElementById("session-status").textContent = status;
  document.getElementById("session-message").textContent = message || "";
  if (status === "running" && desktop.hidden) {
    desktop.hidden = false;
    connection = connectDesktop(desktop, {
      path: desktop.dataset.path,
      viewOnly: false,
      followTab: desktop.dataset.followsTab === "true",
      onIdle: showIdleNotice,
      onClipboard: (text) => {
        clipboardText.value = text;
      },
    });
    document.getElementById("session-progress").hidden = true;
  }
  if (status !== "running" && !desktop.hidden) {
    // Paused, stopped or ended: the page says so (and why) instead of a desktop that cannot answer.
    connection?.disconnect();
    desktop.hidden = true;
    connection = null;
    document.getElementById("session-progress").hidden = false;
  }
  const ended = FINAL.includes(status);
  document.getElementById("session-resume").hidden = !RESUMABLE.includes(status);
  for (const note of document.querySelectorAll("#session-resume [data-when]")) note.hidden = note.dataset.when !== status;
  for (const part of document.querySelectorAll("#session-panel [data-when]")) {
    part.hidden = !part.dataset.when.split(" ").includes(status);
  }
  document.getElementById("session-panel").hidden = ended;
  document.getElementById("session-ended").hidden = !ended;
  if (ended && message) document.getElementById("session-ended-reason").textContent = `: ${message}`;
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
  if (!state || !SETTLED.includes(state.status)) setTimeout(poll, 1000);
}

onLiveUpdate("session.", (message) => {
  if (message.payload.kasm_id === kasmId) show(message.payload.status, message.payload.message);
});
// The page was rendered with the session's status: a running desktop connects at once, without
// waiting for the first status answer (a round trip more before the first frame). A settled
// status is asked again only once the desktop is up: its changes come by the live socket, and
// this first poll covers one made before that socket connected.
show(root.dataset.status, document.getElementById("session-message").textContent);
setTimeout(poll, SETTLED.includes(root.dataset.status) ? 2000 : 0);

// The side panel: open or closed as the user left it last; the desktop takes the room it leaves.
const panelToggle = document.getElementById("panel-toggle");
function setPanelOpen(open) {
  root.classList.toggle("panel-open", open);
  panelToggle.setAttribute("aria-expanded", String(open));
  localStorage.setItem("session-panel-open", open ? "1" : "0");
}
setPanelOpen(localStorage.getItem("session-panel-open") !== "0");
panelToggle.addEventListener("click", () => setPanelOpen(!root.classList.contains("panel-open")));

document.getElementById("session-fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else root.requestFullscreen().catch(() => {}); // refused outside a user gesture: nothing to do
});

document.getElementById("clipboard-send").addEventListener("click", () => connection?.paste(clipboardText.value));

async function keepalive() {
  const response = await fetch(`/session/${kasmId}/keepalive/`, {
    method: "POST",
    headers: { "X-CSRFToken": csrf },
    credentials: "same-origin",
  });
  if (!response.ok) return;
  const expires = new Date((await response.json()).expires_at);
  const shown = document.getElementById("session-expires");
  shown.dateTime = expires.toISOString();
  shown.textContent = expires.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
document.getElementById("session-extend").addEventListener("click", () => keepalive().catch(() => {}));

initFiles(document.getElementById("files-panel"), csrf);

// Keep the session alive while this tab is open.
setInterval(() => {
  if (root.dataset.status === "running") keepalive().catch(() => {}); // the next one, a minute later, tries again
}, 60_000);
