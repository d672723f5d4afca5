// The county portal: one page, its views chosen by the address's fragment
// (#/statistics, #/projects/<id>, …) so that every view has an address.
// Public views need no sign-in; the others send the reader to #/login.

import { ApiError, account, accessToken, graphql, logout, onSession, resume } from "./api.js";
import { h, problem } from "./dom.js";
import { liveAlerts } from "./live.js";
import { complaintForm, complaintProgress, notices, policies, policy, project, projects, statistics } from "./public.js";
import { householdCard, households, loginPage, work } from "./work.js";
import { label } from "./labels.js";

/** `[pattern, view, signed-in only]`; a view draws into its element and returns its title. */
const ROUTES = [
  [/^(statistics)?$/, statistics, false],
  [/^projects$/, projects, false],
  [/^projects\/([^/]+)$/, project, false],
  [/^policies$/, policies, false],
  [/^policies\/([^/]+)$/, policy, false],
  [/^notices$/, notices, false],
  [/^complaint$/, complaintForm, false],
  [/^complaint\/([^/]+)$/, complaintProgress, false],
  [/^login$/, loginPage, false],
  [/^households$/, households, true],
  [/^households\/([^/]+)$/, householdCard, true],
  [/^work$/, work, true],
];

const PUBLIC_LINKS = [
  ["statistics", "统计监测", "Statistics"],
  ["projects", "扶贫项目", "Projects"],
  ["policies", "政策公开", "Policies"],
  ["notices", "公示公告", "Notices"],
  ["complaint", "投诉举报", "Complaints"],
];
const SIGNED_LINKS = [
  ["households", "贫困户", "Households"],
  ["work", "待办", "Work"],
];

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const live = liveAlerts(document.getElementById("live"), accessToken);
let rendering = 0;

function where() {
  const fragment = window.location.hash.replace(/^#\/?/, "");
  const [path, search] = fragment.split("?");
  return { path: decodeURIComponent(path || ""), query: new URLSearchParams(search || "") };
}

function drawNav() {
  const me = account();
  const { path } = where();
  const section = path.split("/")[0] || "statistics";
  const item = ([target, zh, en]) =>
    h("a", { href: `#/${target}`, "aria-current": section === target ? "page" : null }, zh, h("small", {}, en));
  const links = [...PUBLIC_LINKS.map(item), ...(me ? SIGNED_LINKS.map(item) : [])];
  const who = me
    ? h(
        "span",
        { class: "who" },
        h("span", { id: "signed-in-as" }, `${me.username}（${label("Role", me.role)}${me.region ? ` · ${me.region.name}` : ""}）`),
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              await logout();
              window.location.hash = "#/statistics";
            },
          },
          "退出",
        ),
      )
    : h("a", { href: "#/login", class: "sign-in", "aria-current": section === "login" ? "page" : null }, "工作人员登录");
  nav.replaceChildren(...links, who);
}

/**
 * Draws the view of the address. While it draws, the view is aria-busy;
 * once drawn, `data-shown` holds the fragment it shows (what tests wait for).
 */
async function render() {
  const turn = ++rendering;
  const shown = window.location.hash || "#/";
  const { path, query } = where();
  delete view.dataset.shown;
  drawNav();
  const found = ROUTES.map(([pattern, draw, signed]) => [pattern.exec(path), draw, signed]).find(([match]) => match);
  const page = h("div", { class: "page" });
  view.replaceChildren(page);
  if (!found) {
    page.append(h("h1", {}, "页面不存在"), h("p", {}, h("a", { href: "#/statistics" }, "返回首页")));
    view.dataset.shown = shown;
    return;
  }
  const [match, draw, signed] = found;
  if (signed && !account()) {
    window.location.hash = `#/login?next=${encodeURIComponent(window.location.hash)}`;
    return;
  }
  view.setAttribute("aria-busy", "true");
  try {
    const title = await draw(page, match.slice(1).map(decodeURIComponent), query);
    if (turn === rendering) document.title = `${title} · 扶贫信息平台`;
  } catch (error) {
    if (turn !== rendering) return;
    const message = error instanceof ApiError ? error.message : `页面出错：${error.message}`;
    page.replaceChildren(problem(message));
  } finally {
    if (turn === rendering) {
      view.removeAttribute("aria-busy");
      view.dataset.shown = shown;
      if (document.activeElement === document.body) view.focus({ preventScroll: true });
    }
  }
}

onSession((me) => {
  const panel = document.getElementById("live");
  panel.hidden = !me;
  if (me) live.restart();
  else live.stop();
  drawNav();
});

window.addEventListener("hashchange", render);

(async () => {
  await resume();
  render();
  try {
    const { data } = await graphql("query Name { county { name } }");
    document.getElementById("county-name").textContent = data.county.name;
  } catch (_) {
    // The header keeps its generic name.
  }
})();
