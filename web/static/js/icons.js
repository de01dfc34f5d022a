// Line icons of the navigation, 24-unit boxes drawn with strokes.

import { s } from "./dom.js";

const PATHS = {
  overview: ["M3 13h8V3H3z", "M13 21h8V11h-8z", "M3 21h8v-6H3z", "M13 9h8V3h-8z"],
  backups: ["M12 3v12", "M7 10l5 5 5-5", "M4 17v3h16v-3"],
  restores: ["M12 21V9", "M7 14l5-5 5 5", "M4 7V4h16v3"],
  policies: ["M4 6h16v14H4z", "M4 10h16", "M8 3v5", "M16 3v5", "M12 13v3l2 1.5"],
  agents: ["M4 5h16v10H4z", "M8 19h8", "M12 15v4"],
  storage: ["M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3z",
    "M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6", "M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3"],
  webhooks: ["M10 14a4 4 0 0 0 5.6 0l3-3a4 4 0 0 0-5.6-5.6l-1 1",
    "M14 10a4 4 0 0 0-5.6 0l-3 3a4 4 0 0 0 5.6 5.6l1-1"],
  licenses: ["M15 7a4 4 0 1 1-4 4", "M11 11l-8 8", "M6 16l2 2", "M9 13l2 2"],
  users: ["M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M2 21a7 7 0 0 1 14 0", "M16 3a4 4 0 0 1 0 8",
    "M22 21a7 7 0 0 0-4-6.3"],
  profile: ["M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M4 21a8 8 0 0 1 16 0"],
  menu: ["M4 6h16", "M4 12h16", "M4 18h16"],
};

export function icon(name) {
  return s("svg", { viewBox: "0 0 24 24", fill: "none", stroke: "currentColor",
    "stroke-width": 1.8, "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true" },
  (PATHS[name] || []).map((d) => s("path", { d })));
}
