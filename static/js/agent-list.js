import { fetchJson, onLiveUpdate, throttled } from "./live.js";
import { GIB } from "./units.js";

const tbody = document.querySelector("#agents tbody");
const shown = new URLSearchParams(location.search);
const filtered = Boolean(shown.get("q") || shown.get("status"));

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

// One bar: used and allocated as fills over the capacity, with the caption under it.
function bar(label, used, allocated, capacity, caption, format) {
  const td = document.createElement("td");
  const meter = document.createElement("div");
  meter.className = "bar";
  meter.setAttribute("role", "img");
  meter.setAttribute("aria-label", `${label}: ${caption}`);
  const pct = (value) => `${capacity ? Math.min(100, (100 * value) / capacity) : 0}%`;
  for (const [kind, value] of [["allocated", allocated], ["used", used]]) {
    const fill = document.createElement("span");
    fill.className = `fill ${kind}`;
    fill.style.width = pct(value);
    meter.append(fill);
  }
  const text = document.createElement("small");
  text.className = "caption";
  text.textContent = `${caption} · ${format(used)} used`;
  td.append(meter, text);
  return td;
}

function render(agents) {
  tbody.replaceChildren();
  if (!agents.length) {
    const row = tbody.insertRow();
    row.append(cell(filtered ? "No agent matches." : "No agent has registered yet. Start one with manage.py run_agent.", "muted"));
    row.cells[0].colSpan = 7;
    return;
  }
  for (const agent of agents) {
    const row = tbody.insertRow();
    row.dataset.agent = agent.hostname;
    const link = document.createElement("a");
    link.href = `/console/agents/${agent.id}/`;
    link.textContent = agent.hostname;
    const name = document.createElement("td");
    name.append(link);
    row.append(
      name,
      cell(agent.status, `status ${agent.status}`),
      cell(agent.zone ?? "-"),
      cell(agent.enabled ? "yes" : "no (draining)"),
      cell(String(agent.sessions)),
      bar("CPU", agent.cpu.used, agent.cpu.allocated, agent.cpu.capacity, agent.cpu.caption, (v) => `${v.toFixed(1)} cores`),
      bar("RAM", agent.memory.used, agent.memory.allocated, agent.memory.capacity, agent.memory.caption,
        (v) => `${(v / GIB).toFixed(1)} GiB`),
    );
  }
}

render(JSON.parse(document.getElementById("agents-data").textContent));
// The page shown (its number, search and status filter), fresh.
const refresh = throttled(async () => render(await fetchJson(`/api/console/agents/${location.search}`)));
onLiveUpdate("agent.", refresh);
