// The share chat: history, live messages and who is here, over /ws/share/<share_id>/chat/.
// Everything from other users is inserted as text, never as HTML.
const root = document.getElementById("chat");
const list = document.getElementById("chat-messages");
const presence = document.getElementById("chat-presence");
const errorLine = document.getElementById("chat-error");
const input = document.getElementById("chat-input");
const kickUrl = root.dataset.kickUrl;
const csrf = document.querySelector("[name=csrfmiddlewaretoken]")?.value;
let socket;
let ended = false;

function addMessage(message) {
  const item = document.createElement("li");
  const time = new Date(message.sent_at).toLocaleTimeString();
  const meta = document.createElement("span");
  meta.className = "chat-meta";
  meta.textContent = `${message.sender} · ${time}`;
  const body = document.createElement("span");
  body.className = "chat-body";
  body.textContent = message.body;
  item.append(meta, body);
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

async function kick(username) {
  const response = await fetch(kickUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username }),
    credentials: "same-origin",
  });
  if (!response.ok) errorLine.textContent = (await response.json()).error_message;
}

function showPresence(users) {
  presence.replaceChildren();
  for (const username of users) {
    const entry = document.createElement("span");
    entry.className = "chat-user";
    entry.textContent = username;
    if (kickUrl && username !== root.dataset.me) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link kick";
      button.textContent = "remove";
      button.setAttribute("aria-label", `Remove ${username}`);
      button.addEventListener("click", () => kick(username));
      entry.append(" (", button, ")");
    }
    presence.append(entry, " ");
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/share/${root.dataset.shareId}/chat/`);
  socket.addEventListener("open", () => { root.dataset.connected = "true"; });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "history") { list.replaceChildren(); data.messages.forEach(addMessage); }
    else if (data.type === "message") addMessage(data);
    else if (data.type === "presence") showPresence(data.users);
    else if (data.type === "error") errorLine.textContent = data.error;
    else if (data.type === "ended") {
      ended = true;
      errorLine.textContent = data.reason;
      document.getElementById("session-desktop")?.remove();
    }
  });
  socket.addEventListener("close", () => {
    root.dataset.connected = "false";
    if (!ended) setTimeout(connect, 2000); // a network blip; a refused or ended share stays closed
  });
}

document.getElementById("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = input.value.trim();
  if (!body || socket.readyState !== WebSocket.OPEN) return;
  errorLine.textContent = "";
  socket.send(JSON.stringify({ type: "message", body }));
  input.value = "";
});
connect();
