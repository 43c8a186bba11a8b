// The Files section of the session panel: drop or choose files to upload into ~/Uploads (one
// request, with a progress bar), and browse the home to download a file. The server checks
// everything (owner, group policy, size, paths); this only shows its answers.

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

export function initFiles(panel, csrf) {
  const input = panel.querySelector("#upload-input");
  const dropZone = panel.querySelector("#drop-zone");
  const progress = panel.querySelector("#upload-progress");
  const status = panel.querySelector("#upload-status");
  const list = panel.querySelector("#files-list");
  const pathNav = panel.querySelector("#files-path");
  const error = panel.querySelector("#files-error");
  let currentPath = "Downloads";

  function upload(files) {
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append("files", file);
    const request = new XMLHttpRequest();
    request.open("POST", panel.dataset.uploadUrl);
    request.setRequestHeader("X-CSRFToken", csrf);
    request.responseType = "json";
    progress.hidden = false;
    progress.value = 0;
    status.textContent = `Uploading ${files.length} file${files.length > 1 ? "s" : ""}…`;
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
    });
    request.addEventListener("loadend", () => {
      progress.hidden = true;
      const answer = request.response || {};
      status.textContent = answer.uploaded
        ? `In ~/Uploads: ${answer.uploaded.join(", ")}`
        : answer.error || "The upload failed; try again.";
      status.className = answer.uploaded ? "muted" : "error";
      input.value = "";
      if (answer.uploaded && currentPath === "Uploads") browse(currentPath);
    });
    request.send(form);
  }

  input.addEventListener("change", () => upload([...input.files]));
  for (const name of ["dragenter", "dragover"]) {
    dropZone.addEventListener(name, (event) => {
      event.preventDefault();
      dropZone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    dropZone.addEventListener(name, () => dropZone.classList.remove("dragging"));
  }
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    upload([...event.dataTransfer.files]);
  });

  function showPath(path) {
    pathNav.replaceChildren();
    const parts = path ? path.split("/") : [];
    const crumbs = [["~", ""], ...parts.map((part, index) => [part, parts.slice(0, index + 1).join("/")])];
    crumbs.forEach(([label, target], index) => {
      if (index) pathNav.append(" / ");
      const link = document.createElement("button");
      link.type = "button";
      link.className = "link";
      link.textContent = label;
      link.addEventListener("click", () => browse(target));
      pathNav.append(link);
    });
  }

  async function browse(path) {
    error.textContent = "";
    const response = await fetch(`${panel.dataset.filesUrl}?path=${encodeURIComponent(path)}`, {
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (!response.ok) {
      if (path === "Downloads") return browse(""); // no ~/Downloads yet: the home instead
      error.textContent = answer.error;
      return;
    }
    currentPath = answer.path;
    showPath(currentPath);
    list.replaceChildren();
    for (const entry of answer.entries) {
      const item = document.createElement("li");
      const target = currentPath ? `${currentPath}/${entry.name}` : entry.name;
      if (entry.is_directory) {
        const open = document.createElement("button");
        open.type = "button";
        open.className = "link";
        open.textContent = `${entry.name}/`;
        open.addEventListener("click", () => browse(target));
        item.append(open);
      } else {
        const link = document.createElement("a");
        link.href = `${panel.dataset.downloadUrl}?path=${encodeURIComponent(target)}`;
        link.textContent = entry.name;
        link.download = entry.name;
        const size = document.createElement("span");
        size.className = "size";
        size.textContent = formatSize(entry.size);
        item.append(link, size);
      }
      list.append(item);
    }
    if (!answer.entries.length) list.innerHTML = '<li class="muted">Empty.</li>';
  }

  // Listed when the section first shows (the session runs), and again on each opening.
  const observer = new MutationObserver(() => {
    if (!panel.hidden) browse(currentPath).catch(() => {});
  });
  observer.observe(panel, { attributes: true, attributeFilter: ["hidden"] });
  if (!panel.hidden) browse(currentPath).catch(() => {});
}
