// A viewer's page: the shared desktop, view-only and scaled to the space left by the chat.
import { connectDesktop } from "./desktop.js";

const desktop = document.getElementById("session-desktop");
connectDesktop(desktop, { path: desktop.dataset.path, viewOnly: true });
