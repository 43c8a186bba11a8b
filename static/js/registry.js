// Store front filters (search, category, one registry) and the live size widget.
import { filterTiles } from "./tile-filter.js";

const search = document.getElementById("store-search");
const category = document.getElementById("store-category");
let registry = "";

function filter() {
  filterTiles(document.querySelectorAll("#store-tiles .tile"), { search: search.value, category: category.value, registry });
}

search.addEventListener("input", filter);
category.addEventListener("change", filter);
for (const button of document.querySelectorAll("[data-registry-filter]")) {
  button.addEventListener("click", () => {
    registry = button.dataset.registryFilter;
    filter();
  });
}
document.getElementById("clear-filters").addEventListener("click", () => {
  search.value = "";
  category.value = "";
  registry = "";
  filter();
});

function formatBytes(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

const widget = document.getElementById("space-widget");
async function refreshSpace() {
  try {
    const response = await fetch(widget.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const space = await response.json();
    document.getElementById("space-needed").textContent = formatBytes(space.needed_bytes);
    document.getElementById("space-free").textContent = formatBytes(space.free_bytes);
    const pending = document.getElementById("space-pending");
    if (pending) pending.textContent = space.pending_count ? `(${space.pending_count} pulling, estimated)` : "";
    const failed = document.getElementById("space-failed");
    if (failed) failed.textContent = space.failed_count ? `${space.failed_count} failed to pull: see the agents' Images tab` : "";
  } catch (error) {
    console.warn("size widget refresh failed, retrying", error);
  }
}
setInterval(refreshSpace, 10000);
