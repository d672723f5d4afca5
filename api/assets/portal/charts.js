// Charts drawn as SVG by the portal itself: horizontal bars (one region or
// category a row, readable on a phone), columns by year, and lines by year.
// A value withheld from the public is drawn as an empty, hatched bar
// marked 不公开, never as a zero.

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attributes, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function figure(title, svg, note) {
  const node = document.createElement("figure");
  node.className = "chart";
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  node.append(caption, svg);
  if (note) {
    const p = document.createElement("p");
    p.className = "chart-note";
    p.textContent = note;
    node.append(p);
  }
  return node;
}

function frame(width, height, title) {
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, preserveAspectRatio: "xMinYMin meet" },
    s("title", {}, title),
    s(
      "defs",
      {},
      s(
        "pattern",
        { id: "withheld", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        s("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch" }),
      ),
    ),
  );
}

/** A round step for an axis up to `max`. */
function niceMax(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

/**
 * Horizontal bars: `items` of `{ label, value }` (value null = withheld),
 * `format(value)` for the figure at each bar's end, and an optional
 * `threshold` `{ value, label }` drawn as a dashed line.
 */
export function bars(title, items, { format = String, threshold = null, note = null } = {}) {
  const row = 26;
  const left = 112;
  const width = 560;
  const right = 96;
  const top = threshold ? 20 : 6;
  const height = top + items.length * row + 6;
  const values = items.map((item) => item.value).filter((v) => v !== null && v !== undefined);
  const max = niceMax(Math.max(...values, threshold ? threshold.value : 0, 0));
  const span = width - left - right;
  const x = (value) => left + (span * value) / max;
  const svg = frame(width, height, title);
  items.forEach((item, i) => {
    const y = top + i * row;
    svg.append(s("text", { x: left - 6, y: y + row / 2 + 4, class: "axis-label", "text-anchor": "end" }, item.label));
    if (item.value === null || item.value === undefined) {
      svg.append(
        s("rect", { x: left, y: y + 4, width: span * 0.2, height: row - 8, class: "bar withheld-bar", fill: "url(#withheld)" }),
        s("text", { x: left + span * 0.2 + 6, y: y + row / 2 + 4, class: "value" }, "不公开"),
      );
    } else {
      const w = Math.max(x(item.value) - left, item.value > 0 ? 1 : 0);
      svg.append(
        s("rect", { x: left, y: y + 4, width: w, height: row - 8, class: item.over ? "bar over" : "bar" }),
        s("text", { x: left + w + 6, y: y + row / 2 + 4, class: "value" }, format(item.value)),
      );
    }
  });
  if (threshold) {
    const tx = x(threshold.value);
    svg.append(
      s("line", { x1: tx, y1: top - 4, x2: tx, y2: height - 4, class: "threshold" }),
      s("text", { x: tx, y: 12, class: "threshold-label", "text-anchor": "middle" }, threshold.label),
    );
  }
  return figure(title, svg, note);
}

/** Columns by year: `items` of `{ label, value }` (value null = withheld). */
export function columns(title, items, { format = String, note = null } = {}) {
  const width = 560;
  const height = 220;
  const bottom = 24;
  const top = 18;
  const left = 8;
  const values = items.map((item) => item.value).filter((v) => v !== null && v !== undefined);
  const max = niceMax(Math.max(...values, 0));
  const slot = (width - left * 2) / Math.max(items.length, 1);
  const plot = height - bottom - top;
  const svg = frame(width, height, title);
  svg.append(s("line", { x1: left, y1: height - bottom, x2: width - left, y2: height - bottom, class: "axis" }));
  items.forEach((item, i) => {
    const cx = left + slot * i + slot / 2;
    const w = Math.min(slot * 0.7, 36);
    svg.append(s("text", { x: cx, y: height - 8, class: "axis-label", "text-anchor": "middle" }, item.label));
    if (item.value === null || item.value === undefined) {
      svg.append(
        s("rect", { x: cx - w / 2, y: height - bottom - 24, width: w, height: 24, class: "bar withheld-bar", fill: "url(#withheld)" }),
        s("text", { x: cx, y: height - bottom - 28, class: "value", "text-anchor": "middle" }, "不公开"),
      );
    } else {
      const barHeight = (plot * item.value) / max;
      svg.append(
        s("rect", { x: cx - w / 2, y: height - bottom - barHeight, width: w, height: barHeight, class: "bar" }),
        s("text", { x: cx, y: height - bottom - barHeight - 4, class: "value", "text-anchor": "middle" }, format(item.value)),
      );
    }
  });
  return figure(title, svg, note);
}

/**
 * Lines over years: `series` of `{ name, className, points: [{ x: year, y }] }`
 * (a null y breaks the line), with a legend.
 */
export function lines(title, series, { format = String, note = null } = {}) {
  const width = 560;
  const height = 240;
  const left = 64;
  const right = 16;
  const top = 28;
  const bottom = 26;
  const xs = [...new Set(series.flatMap((line) => line.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.flatMap((line) => line.points.map((p) => p.y)).filter((y) => y !== null && y !== undefined);
  const max = niceMax(Math.max(...ys, 0));
  const x = (value) =>
    xs.length < 2 ? left + (width - left - right) / 2 : left + ((width - left - right) * xs.indexOf(value)) / (xs.length - 1);
  const y = (value) => height - bottom - ((height - bottom - top) * value) / max;
  const svg = frame(width, height, title);
  for (const tick of [0, max / 2, max]) {
    svg.append(
      s("line", { x1: left, y1: y(tick), x2: width - right, y2: y(tick), class: "grid" }),
      s("text", { x: left - 6, y: y(tick) + 4, class: "axis-label", "text-anchor": "end" }, format(tick)),
    );
  }
  for (const year of xs) {
    svg.append(s("text", { x: x(year), y: height - 8, class: "axis-label", "text-anchor": "middle" }, String(year)));
  }
  series.forEach((line, i) => {
    let path = "";
    let pen = "M";
    for (const point of line.points) {
      if (point.y === null || point.y === undefined) {
        pen = "M";
        continue;
      }
      path += `${pen}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)} `;
      pen = "L";
      svg.append(
        s("circle", { cx: x(point.x), cy: y(point.y), r: 3, class: `dot ${line.className}` }, s("title", {}, `${point.x} ${line.name} ${format(point.y)}`)),
      );
    }
    if (path) svg.append(s("path", { d: path.trim(), class: `line ${line.className}` }));
    const lx = left + i * 180;
    svg.append(
      s("line", { x1: lx, y1: 10, x2: lx + 20, y2: 10, class: `line ${line.className}` }),
      s("text", { x: lx + 26, y: 14, class: "axis-label" }, line.name),
    );
  });
  return figure(title, svg, note);
}
