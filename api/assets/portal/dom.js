// Building the page: elements from plain data, text always as text (never
// as markup), and the formats the portal shows numbers and dates in.

/**
 * An element: `h("a", { href: "#/" }, "首页")`. Attributes that are functions
 * become listeners (`onclick`), `false`/null ones are left out; children are
 * nodes, strings or arrays of them (null is skipped).
 */
export function h(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      node.addEventListener(name.replace(/^on/, ""), value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

/** Replaces what `node` shows with `children`, taken as `h` takes them. */
export function show(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** What a missing value shows as. */
export const NONE = "—";

/** What a value withheld from the public (小数抑制) shows as. */
export const WITHHELD = "不公开";

/** A whole number with separators, or NONE. */
export function count(value) {
  return value === null || value === undefined ? NONE : Number(value).toLocaleString("zh-CN");
}

/** A count the public statistics may withhold: null is "withheld", not "none". */
export function cell(value) {
  return value === null || value === undefined ? h("span", { class: "withheld" }, WITHHELD) : count(value);
}

/** An amount of yuan (the API's Money is a decimal string), or NONE. */
export function yuan(value) {
  if (value === null || value === undefined) return NONE;
  const number = Number(value);
  return `${number.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} 元`;
}

/** A ratio of 0 to 1 as a percentage, or NONE. */
export function percent(value, digits = 1) {
  return value === null || value === undefined ? NONE : `${(value * 100).toFixed(digits)}%`;
}

/** A date or date-time as the county reads it. */
export function day(value) {
  if (!value) return NONE;
  if (value.length <= 10) return value;
  return new Date(value).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

/** Yes, no or unknown. */
export function yes(value) {
  if (value === null || value === undefined) return NONE;
  return value ? "是" : "否";
}

/** A table of `rows` under `headings`; `empty` when there are none. */
export function table(headings, rows, empty = "暂无记录", caption = null) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headings.map((heading) => h("th", { scope: "col" }, heading)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", {}, row.map((value) => h("td", {}, value ?? NONE)))),
      ),
    ),
  );
}

/** Label and value pairs, as a description list. */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.map(([name, value]) => h("div", {}, h("dt", {}, name), h("dd", {}, value ?? NONE))),
  );
}

/** A note that something could not be read or done. */
export function problem(message) {
  return h("p", { class: "problem", role: "alert" }, message);
}

/** A note while something loads. */
export function loading(what = "正在读取…") {
  return h("p", { class: "status" }, what);
}
