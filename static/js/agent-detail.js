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

// Two charts, each in its own unit (cores never share an axis with GiB): used, allocated and
// capacity as bars on an axis that starts at zero.
const COLORS = { Used: "#2160c4", Allocated: "#f59e0b", Capacity: "#cbd2dc" };

function bars(resource, scale) {
  const values = [resource.used, resource.allocated, resource.capacity].map((value) => +(value / scale).toFixed(1));
  return [{ data: values, backgroundColor: Object.values(COLORS) }];
}

function usageChart(id, unit, resource, scale) {
  return new Chart(document.getElementById(id), {
    type: "bar",
    data: { labels: Object.keys(COLORS), datasets: bars(resource, scale) },
    options: {
      indexAxis: "y",
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => `${item.formattedValue} ${unit}` } } },
      scales: { x: { beginAtZero: true, title: { display: true, text: unit } } },
    },
  });
}

const usage = JSON.parse(document.getElementById("usage-data").textContent);
const charts = {
  cpu: usageChart("cpu-usage-chart", "cores", usage.cpu, 1),
  memory: usageChart("memory-usage-chart", "GiB", usage.memory, GIB),
};
window.usageCharts = charts;

const agentId = usage.id;
const refresh = throttled(async () => {
  const fresh = await fetchJson(`/api/console/agents/${agentId}/`);
  charts.cpu.data.datasets = bars(fresh.cpu, 1);
  charts.memory.data.datasets = bars(fresh.memory, GIB);
  charts.cpu.update();
  charts.memory.update();
  document.getElementById("cpu-caption").textContent = fresh.cpu.caption;
  document.getElementById("memory-caption").textContent = fresh.memory.caption;
});
// Check-ins come as one push per batch, naming its agents; other agent news names one.
onLiveUpdate("agent.", ({ payload }) => { if (payload.agent === agentId || payload.agents?.includes(agentId)) refresh(); });
