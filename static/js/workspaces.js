const search = document.getElementById("workspace-search");
const category = document.getElementById("workspace-category");

function filter() {
  const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  for (const tile of document.querySelectorAll("#workspace-tiles .tile")) {
    const inCategory = !category.value || tile.dataset.categories.split("|").includes(category.value);
    tile.hidden = !(inCategory && words.every((word) => tile.dataset.name.includes(word)));
  }
}
search.addEventListener("input", filter);
category.addEventListener("change", filter);
