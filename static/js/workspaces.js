import { filterTiles } from "./tile-filter.js";

const search = document.getElementById("workspace-search");
const category = document.getElementById("workspace-category");

function filter() {
  filterTiles(document.querySelectorAll("#workspace-tiles .tile"), { search: search.value, category: category.value });
}
search.addEventListener("input", filter);
category.addEventListener("change", filter);
