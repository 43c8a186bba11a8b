import { fetchJson, onLiveUpdate, throttled } from "./live.js";
import { GIB } from "./units.js";

const agentSelect = document.getElementById("agent-select");
const hoursSelect = document.getElementById("hours-select");

function lineChart(id, color) {
  return new Chart(document.getElementById(id), {
    type: "line",
    data: { labels: [], datasets: [{ data: [], borderColor: color, backgroundColor: color, pointRadius: 0, tension: 0.2 }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
}

const charts = {
  cpu: lineChart("cpu-history", "#2160c4"),
  memory: lineChart("memory-history", "#16a34a"),
  disk: lineChart("disk-history", "#f59e0b"),
};
window.historyCharts = charts;

function show(chart, labels, values) {
  chart.data.labels = labels;
  chart.data.datasets[0].data = values;
  chart.update();
}

async function load() {
  if (!agentSelect.value) return;
  const series = await fetchJson(`/api/console/agents/${agentSelect.value}/stats/?hours=${hoursSelect.value}`);
  const labels = series.timestamps.map((iso) => new Date(iso).toLocaleString());
  show(charts.cpu, labels, series.cpu_percent);
  show(charts.memory, labels, series.memory_used.map((v) => +(v / GIB).toFixed(2)));
  show(charts.disk, labels, series.disk_used.map((v) => +(v / GIB).toFixed(2)));
  document.body.dataset.historyPoints = String(series.timestamps.length);
}

const loadShown = () => load().catch((error) => console.warn("history not loaded:", error));
agentSelect.addEventListener("change", loadShown);
hoursSelect.addEventListener("change", loadShown);
loadShown();
const refresh = throttled(load, 2000);
onLiveUpdate("agent.checkin", (message) => { if (message.payload.agent === agentSelect.value) refresh(); });
