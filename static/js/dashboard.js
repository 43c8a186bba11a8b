import { fetchJson, onLiveUpdate, throttled } from "./live.js";
import { GIB } from "./units.js";

const agentSelect = document.getElementById("agent-select");
const hoursSelect = document.getElementById("hours-select");

// One unit per chart, named on its axis; the axis tops at the capacity so a glance says how full.
function lineChart(id, color, unit) {
  return new Chart(document.getElementById(id), {
    type: "line",
    data: { labels: [], datasets: [{ data: [], borderColor: color, backgroundColor: `${color}33`, fill: true, pointRadius: 0, tension: 0.2 }] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => `${item.formattedValue} ${unit}` } } },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
        y: { beginAtZero: true, title: { display: true, text: unit }, ticks: { maxTicksLimit: 6 } },
      },
    },
  });
}

const charts = {
  cpu: lineChart("cpu-history", "#2160c4", "%"),
  memory: lineChart("memory-history", "#16a34a", "GiB"),
  disk: lineChart("disk-history", "#f59e0b", "GiB"),
};
window.historyCharts = charts;

// Short time labels: "14:05" within a day, "Tue 14:00" over a week.
function timeLabel(hours) {
  const format = hours > 24
    ? new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" })
    : new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  return (iso) => format.format(new Date(iso));
}

function show(chart, labels, values, max) {
  chart.data.labels = labels;
  chart.data.datasets[0].data = values;
  chart.options.scales.y.max = max || undefined;
  chart.update();
}

const gib = (bytes) => +(bytes / GIB).toFixed(1);

async function load() {
  if (!agentSelect.value) return;
  const hours = Number(hoursSelect.value);
  const series = await fetchJson(`/api/console/agents/${agentSelect.value}/stats/?hours=${hours}`);
  const labels = series.timestamps.map(timeLabel(hours));
  show(charts.cpu, labels, series.cpu_percent, 100);
  show(charts.memory, labels, series.memory_used.map(gib), gib(series.memory_total));
  show(charts.disk, labels, series.disk_used.map(gib), gib(series.disk_total));
  const minutes = Math.round(series.bucket_seconds / 60);
  document.getElementById("history-resolution").textContent =
    minutes >= 1 ? `Each point averages ${minutes} minute${minutes === 1 ? "" : "s"}.` : "Each point is one check-in.";
  document.body.dataset.historyPoints = String(series.timestamps.length);
}

const loadShown = () => load().catch((error) => console.warn("history not loaded:", error));
agentSelect.addEventListener("change", loadShown);
hoursSelect.addEventListener("change", loadShown);
loadShown();
const refresh = throttled(load, 2000);
// One push per batch of check-ins, naming the agents in it.
onLiveUpdate("agent.checkin", (message) => { if (message.payload.agents.includes(agentSelect.value)) refresh(); });
