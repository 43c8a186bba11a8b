import { fetchJson, onLiveUpdate, throttled } from "./live.js";
import { GIB } from "./units.js";

const tabs = document.querySelectorAll("[role=tab]");
function showTab(name) {
  for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll(".tab")) panel.hidden = panel.id !== `tab-${name}`;
  history.replaceState(null, "", `#${name}`);
}
for (const tab of tabs) tab.addEventListener("click", () => showTab(tab.dataset.tab));
if (document.querySelector(".errorlist")) showTab("settings");
else if (location.hash) showTab(location.hash.slice(1));

// CPU in cores and RAM in GiB, so both fit one axis: used, allocated, capacity side by side.
function datasets(usage) {
  const memory = (value) => +(value / GIB).toFixed(2);
  return [
    { label: "Used", data: [usage.cpu.used, memory(usage.memory.used)], backgroundColor: "#2160c4" },
    { label: "Allocated", data: [usage.cpu.allocated, memory(usage.memory.allocated)], backgroundColor: "#f59e0b" },
    { label: "Capacity", data: [usage.cpu.capacity, memory(usage.memory.capacity)], backgroundColor: "#cbd2dc" },
  ];
}

const usage = JSON.parse(document.getElementById("usage-data").textContent);
const chart = new Chart(document.getElementById("usage-chart"), {
  type: "bar",
  data: { labels: ["CPU (cores)", "RAM (GiB)"], datasets: datasets(usage) },
  options: { indexAxis: "y", animation: false, maintainAspectRatio: false },
});
window.usageChart = chart;

const agentId = usage.id;
const refresh = throttled(async () => {
  const fresh = await fetchJson(`/api/console/agents/${agentId}/`);
  chart.data.datasets = datasets(fresh);
  chart.update();
  document.getElementById("cpu-caption").textContent = fresh.cpu.caption;
  document.getElementById("memory-caption").textContent = fresh.memory.caption;
});
onLiveUpdate("agent.", (message) => { if (message.payload.agent === agentId) refresh(); });
