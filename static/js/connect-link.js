// Kasm's session links read `/#/connect/kasm/<kasm_id>/<user_id>/<token>`: the part after `#` never
// reaches the server, so whichever page the browser lands on (the start page, or the login page it
// redirects to) sends it on to the server's own path for it.
const link = location.hash.match(/^#\/connect\/kasm\/([0-9a-f]{32})\/([0-9a-f]{32})\/([A-Za-z0-9_-]+)$/);
if (link) location.replace(`/connect/${link[1]}/${link[2]}/${link[3]}/`);
