// Shared by the workspaces page and the registry store: show the tiles that match every search
// word (in data-name), the chosen category (in data-categories) and, where given, data-registry.
export function filterTiles(tiles, { search, category, registry = "" }) {
  const words = search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  for (const tile of tiles) {
    const inCategory = !category || tile.dataset.categories.split("|").includes(category);
    const inRegistry = !registry || tile.dataset.registry === registry;
    tile.hidden = !(inCategory && inRegistry && words.every((word) => tile.dataset.name.includes(word)));
  }
}
