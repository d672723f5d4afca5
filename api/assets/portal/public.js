// The public pages: statistics, projects and their ledger, policies, public
// notices, and complaints. Anyone may read them; signed in, the same pages
// show what the reader's token allows (statistics without withheld cells).

import { graphql, must } from "./api.js";
import { bars, columns, lines } from "./charts.js";
import { NONE, cell, count, day, facts, h, loading, percent, problem, show, table, yes, yuan } from "./dom.js";
import { LABELS, label } from "./labels.js";

/** The county and the poverty lines, read once. */
let basics = null;

async function countyBasics() {
  if (!basics) {
    basics = graphql("query Basics { county { id name } povertyLines { year annual } }").then(({ data }) => data);
    basics.catch(() => {
      basics = null;
    });
  }
  return basics;
}

/** Today's year in the county (UTC+8). */
export function thisYear() {
  return new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
}

/** A link into the portal: `link("#/projects", "项目")`. */
function link(href, text) {
  return h("a", { href }, text);
}

/** `#/path?k=v`, leaving out empty values. */
export function route(path, parameters = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return `#/${path}${text ? `?${text}` : ""}`;
}

/** A `<select>` with a label; `options` are `[value, text]`. */
export function choice(id, text, options, selected, onchange) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, text),
    h(
      "select",
      { id, name: id, onchange },
      options.map(([value, name]) => h("option", { value, selected: String(value) === String(selected ?? "") }, name)),
    ),
  );
}

/** The options of an enum, after an "all" option. */
export function enumOptions(type, all = "全部") {
  return [["", all], ...Object.entries(LABELS[type]).map(([value, name]) => [value, name])];
}

function regionName(region) {
  return (region && region.name) || NONE;
}

// ---------------------------------------------------------------- statistics

const REGION = "region { id __typename ... on County { name } ... on Township { name } ... on Village { name township { id name } } }";
const HEADLINE = `${REGION} suppressedSmallCells poorHouseholds poorPeople ruralPopulation povertyIncidence exitThreshold meetsExitThreshold exits returns`;
const STATISTICS = `query Statistics($region: ID!, $year: Int!) {
  statistics(regionId: $region, year: $year) {
    ${HEADLINE}
    byStatus { status households people }
    byMainCause { cause households }
    income { households perCapitaNet }
    funds { allocated disbursed utilisation }
    children { ${HEADLINE} }
  }
}`;
/** Years of the yearly charts: at most this many, the latest. */
const YEARS_SHOWN = 8;

function yearsQuery(years) {
  const fields = years
    .map((year) => `y${year}: statistics(regionId: $region, year: ${year}) { year exits returns income { perCapitaNet } }`)
    .join("\n  ");
  return `query Years($region: ID!) {\n  ${fields}\n}`;
}

/**
 * A figure that may be null: withheld from the public (小数抑制) when the
 * answer says cells are withheld, else simply unknown.
 */
function figure(stats, value, format) {
  if (value === null || value === undefined) return stats.suppressedSmallCells ? cell(null) : NONE;
  return format(value);
}

function headline(stats) {
  return h(
    "div",
    { class: "cards" },
    [
      ["贫困户数", "Poor households", cell(stats.poorHouseholds)],
      ["贫困人口", "Poor people", cell(stats.poorPeople)],
      ["贫困发生率", "Poverty incidence", figure(stats, stats.povertyIncidence, (v) => percent(v, 2))],
      [
        "退出标准",
        "Exit threshold",
        `${percent(stats.exitThreshold, 0)}${stats.meetsExitThreshold === null ? "" : stats.meetsExitThreshold ? "（已达到）" : "（未达到）"}`,
      ],
      ["当年脱贫户数", "Exits this year", cell(stats.exits)],
      ["当年返贫户数", "Returns this year", cell(stats.returns)],
      ["农业户籍人口", "Rural population", count(stats.ruralPopulation)],
    ].map(([zh, en, value]) =>
      h("div", { class: "card" }, h("div", { class: "card-label" }, zh, h("small", {}, en)), h("div", { class: "card-value" }, value)),
    ),
  );
}

export async function statistics(view, _parts, query) {
  view.append(h("h1", {}, "统计监测 ", h("small", {}, "Statistics")), loading());
  const { county, povertyLines } = await countyBasics();
  const region = query.get("region") || county.id;
  const year = Number(query.get("year")) || thisYear();
  const lineYears = povertyLines.map((line) => line.year);
  const allYears = [...new Set([...lineYears, thisYear()])].sort((a, b) => a - b);
  const chartYears = allYears.slice(-YEARS_SHOWN);
  const [{ data }, yearly] = await Promise.all([
    graphql(STATISTICS, { region, year }),
    graphql(yearsQuery(chartYears), { region }),
  ]);
  const stats = data.statistics;
  const place = stats.region;
  const trail = [link(route("statistics", { year }), county.name)];
  if (place.__typename === "Village" && place.township) {
    trail.push(" › ", link(route("statistics", { region: place.township.id, year }), place.township.name));
  }
  if (place.__typename !== "County") trail.push(" › ", h("span", {}, regionName(place)));
  const yearOptions = allYears.map((y) => [y, `${y} 年`]);
  const content = [
    h("h1", {}, `${regionName(place)} 统计监测 `, h("small", {}, `Statistics ${year}`)),
    h("nav", { class: "trail", "aria-label": "区域层级" }, trail),
    h(
      "form",
      { class: "filters", onsubmit: (event) => event.preventDefault() },
      choice("stat-year", "年度 Year", yearOptions, year, (event) => {
        window.location.hash = route("statistics", { region: place.__typename === "County" ? null : place.id, year: event.target.value });
      }),
    ),
  ];
  if (stats.suppressedSmallCells) {
    content.push(
      h(
        "p",
        { class: "notice", id: "suppression-note" },
        "为保护个人隐私，未登录时 1 至 4 户的小数，以及可据以推算出这些小数的数字，均不公开，显示为「不公开」（小数抑制）。“不公开”表示 1 户或以上，不是 0。",
      ),
    );
  }
  content.push(headline(stats));

  const children = stats.children;
  if (children.length) {
    content.push(
      bars(
        `贫困发生率（按${place.__typename === "County" ? "乡镇" : "村"}） Poverty incidence`,
        children.map((child) => ({
          label: regionName(child.region),
          value: child.povertyIncidence === null ? null : child.povertyIncidence * 100,
          over: child.meetsExitThreshold === false,
        })),
        {
          format: (v) => `${v.toFixed(2)}%`,
          threshold: { value: stats.exitThreshold * 100, label: `退出标准 ${percent(stats.exitThreshold, 0)}` },
          note: "橙色：贫困发生率未低于退出标准。",
        },
      ),
    );
  }
  const perYear = chartYears.map((y) => yearly.data[`y${y}`]);
  content.push(
    columns(
      "历年脱贫户数 Exits by year",
      perYear.map((figures) => ({ label: String(figures.year), value: figures.exits })),
      { format: (v) => count(v) },
    ),
  );
  content.push(
    bars(
      `主要致贫原因（户） Causes of poverty, ${year}`,
      stats.byMainCause.map((figure) => ({ label: label("PovertyCause", figure.cause), value: figure.households })),
      { format: (v) => count(v) },
    ),
  );
  const lineByYear = new Map(povertyLines.map((line) => [line.year, Number(line.annual)]));
  content.push(
    lines(
      "人均纯收入与贫困标准（元/人·年） Income against the poverty line",
      [
        {
          name: "人均纯收入",
          className: "income",
          points: perYear.map((figures) => ({
            x: figures.year,
            y: figures.income.perCapitaNet === null ? null : Number(figures.income.perCapitaNet),
          })),
        },
        {
          name: "国家贫困标准",
          className: "poverty-line",
          points: chartYears.map((y) => ({ x: y, y: lineByYear.has(y) ? lineByYear.get(y) : null })),
        },
      ],
      { format: (v) => Math.round(v).toLocaleString("zh-CN") },
    ),
  );
  content.push(
    h("h2", {}, "按贫困状态 By status"),
    table(
      ["贫困状态", "户数", "人数"],
      stats.byStatus.map((figure) => [label("HouseholdStatus", figure.status), cell(figure.households), cell(figure.people)]),
    ),
    h("h2", {}, "项目资金 Project funds"),
    facts([
      ["已安排 Allocated", yuan(stats.funds.allocated)],
      ["已拨付 Disbursed", yuan(stats.funds.disbursed)],
      ["资金使用率 Utilisation", percent(stats.funds.utilisation)],
      ["有收入记录户数", cell(stats.income.households)],
      ["人均纯收入", stats.income.households === 0 ? NONE : figure(stats, stats.income.perCapitaNet, yuan)],
    ]),
  );
  if (children.length) {
    content.push(
      h("h2", {}, place.__typename === "County" ? "各乡镇 Townships" : "各村 Villages"),
      table(
        ["名称", "贫困户数", "贫困人口", "贫困发生率", "达到退出标准", "当年脱贫", "当年返贫"],
        children.map((child) => [
          link(route("statistics", { region: child.region.id, year }), regionName(child.region)),
          cell(child.poorHouseholds),
          cell(child.poorPeople),
          figure(child, child.povertyIncidence, (v) => percent(v, 2)),
          figure(child, child.meetsExitThreshold, yes),
          cell(child.exits),
          cell(child.returns),
        ]),
        "无下级区域",
        "下级区域统计",
      ),
    );
  }
  show(view, ...content);
  return `${regionName(place)} 统计监测`;
}

// ------------------------------------------------------------------ projects

const PAGE = 30;

export async function projects(view, _parts, query) {
  const year = query.get("year") || "";
  const status = query.get("status") || "";
  const kind = query.get("kind") || "";
  const after = query.get("after") || null;
  view.append(h("h1", {}, "扶贫项目 ", h("small", {}, "Projects")), loading());
  const filter = {};
  if (year) filter.year = Number(year);
  if (status) filter.status = [status];
  if (kind) filter.kind = [kind];
  const { data } = await graphql(
    `query Projects($filter: ProjectFilter, $first: Int, $after: String) {
      projects(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id name year kind status budget beneficiaryCount
          funds { allocated disbursed utilisation }
          villages { name } }
      }
    }`,
    { filter, first: PAGE, after },
  );
  const found = data.projects;
  const go = (change) => () => {
    window.location.hash = route("projects", { year, status, kind, ...change });
  };
  const yearNow = thisYear();
  const years = [["", "全部"]];
  for (let y = yearNow; y >= yearNow - 12; y -= 1) years.push([y, `${y} 年`]);
  show(
    view,
    h("h1", {}, "扶贫项目 ", h("small", {}, "Projects")),
    h("p", {}, "每个项目的公示、批复、实施、验收和每一笔资金安排、拨付，均向社会公开。"),
    h(
      "form",
      { class: "filters", onsubmit: (event) => event.preventDefault() },
      choice("project-year", "计划年度", years, year, (event) => go({ year: event.target.value })()),
      choice("project-status", "项目状态", enumOptions("ProjectStatus"), status, (event) => go({ status: event.target.value })()),
      choice("project-kind", "项目类型", enumOptions("ProjectKind"), kind, (event) => go({ kind: event.target.value })()),
    ),
    h("p", { class: "total" }, `共 ${count(found.totalCount)} 个项目`),
    table(
      ["项目名称", "年度", "类型", "状态", "预算", "已拨付", "受益户数", "覆盖村"],
      found.nodes.map((p) => [
        link(`#/projects/${encodeURIComponent(p.id)}`, p.name),
        p.year,
        label("ProjectKind", p.kind),
        label("ProjectStatus", p.status),
        yuan(p.budget),
        yuan(p.funds.disbursed),
        count(p.beneficiaryCount),
        p.villages.map((v) => v.name).join("、") || NONE,
      ]),
      "没有符合条件的项目",
    ),
    h(
      "nav",
      { class: "pager", "aria-label": "翻页" },
      after ? h("button", { type: "button", onclick: go({ after: null }) }, "回到第一页") : null,
      found.pageInfo.hasNextPage ? h("button", { type: "button", onclick: go({ after: found.pageInfo.endCursor }) }, "下一页") : null,
    ),
  );
  return "扶贫项目";
}

const LEDGER_PAGE = 100;

/** Every entry of a project's ledger, page after page. */
async function ledgerOf(projectId) {
  const entries = [];
  let after = null;
  for (;;) {
    const { data } = await graphql(
      `query Ledger($filter: FundLedgerFilter, $first: Int, $after: String) {
        fundLedger(filter: $filter, first: $first, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes { id kind amount entryDate voucherNumber payeeKind payeeOrganisation payeePerson
            source { name } reverses { id } }
        }
      }`,
      { filter: { projectId }, first: LEDGER_PAGE, after },
    );
    entries.push(...data.fundLedger.nodes);
    if (!data.fundLedger.pageInfo.hasNextPage) return entries;
    after = data.fundLedger.pageInfo.endCursor;
  }
}

/** Sums of decimal strings, in fen so that no yuan is lost to floating point. */
function total(amounts) {
  const fen = amounts.reduce((sum, amount) => sum + Math.round(Number(amount) * 100), 0);
  return (fen / 100).toFixed(2);
}

export async function project(view, [id]) {
  view.append(loading());
  const [{ data }, ledger] = await Promise.all([
    graphql(
      `query Project($id: ID!) {
        project(id: $id) {
          id name kind status year implementer budget
          plannedStartDate plannedEndDate performanceTargets benefitMechanism
          noticeStartsOn noticeEndsOn paperNotice { postedBy postedAt }
          approvedOn actualStartDate actualEndDate progressPercent acceptedOn announcedOn announcementDueOn announcementOverdue
          beneficiaryCount
          villages { id name township { name } }
          funds { allocated disbursed undisbursed utilisation bySource { allocated disbursed source { name year kind documentNumber } } }
          history { fromStatus toStatus effectiveOn note }
        }
      }`,
      { id },
    ),
    ledgerOf(id),
  ]);
  const p = data.project;
  const allocations = ledger.filter((e) => e.kind === "ALLOCATION");
  const disbursements = ledger.filter((e) => e.kind === "DISBURSEMENT");
  const payee = (e) => e.payeeOrganisation || e.payeePerson || NONE;
  show(
    view,
    h("h1", {}, p.name),
    h("p", { class: "subtitle" }, `${p.year} 年 · ${label("ProjectKind", p.kind)} · ${label("ProjectStatus", p.status)} · 进度 ${p.progressPercent}%`),
    h("p", {}, link(route("complaint", { kind: "PROJECT", project: p.id }), "对本项目或其资金投诉举报")),
    facts([
      ["实施单位", p.implementer],
      ["预算资金", yuan(p.budget)],
      ["受益贫困户", `${count(p.beneficiaryCount)} 户`],
      ["覆盖村", p.villages.map((v) => `${v.township ? v.township.name : ""}${v.name}`).join("、") || NONE],
      ["计划工期", `${day(p.plannedStartDate)} 至 ${day(p.plannedEndDate)}`],
      ["绩效目标", p.performanceTargets],
      ["带贫减贫机制", p.benefitMechanism],
    ]),
    h("h2", {}, "公示公告 Public notices"),
    facts([
      ["批复前公示", p.noticeStartsOn ? `${day(p.noticeStartsOn)} 至 ${day(p.noticeEndsOn)}` : "尚未公示"],
      ["纸质公示", p.paperNotice ? `${p.paperNotice.postedBy} 张贴于 ${p.paperNotice.postedAt}` : NONE],
      ["批复日期", day(p.approvedOn)],
      ["实际开工 / 完工", `${day(p.actualStartDate)} / ${day(p.actualEndDate)}`],
      ["验收日期", day(p.acceptedOn)],
      [
        "验收结果公告",
        p.announcedOn
          ? day(p.announcedOn)
          : p.acceptedOn
            ? `应于 ${day(p.announcementDueOn)} 前公告${p.announcementOverdue ? "（已逾期）" : ""}`
            : NONE,
      ],
    ]),
    h("h2", {}, "项目流转 History"),
    table(
      ["生效日期", "原状态", "新状态", "说明"],
      p.history.map((step) => [day(step.effectiveOn), step.fromStatus ? label("ProjectStatus", step.fromStatus) : "入库", label("ProjectStatus", step.toStatus), step.note]),
    ),
    h("h2", {}, "项目资金 Funds"),
    facts([
      ["已安排", yuan(p.funds.allocated)],
      ["已拨付", yuan(p.funds.disbursed)],
      ["待拨付", yuan(p.funds.undisbursed)],
      ["资金使用率", percent(p.funds.utilisation)],
    ]),
    table(
      ["资金来源", "年度", "文号", "已安排", "已拨付"],
      p.funds.bySource.map((s) => [
        s.source ? s.source.name : NONE,
        s.source ? s.source.year : NONE,
        s.source ? s.source.documentNumber : NONE,
        yuan(s.allocated),
        yuan(s.disbursed),
      ]),
      "尚未安排资金",
    ),
    h("h2", {}, "资金台账 Fund ledger"),
    h(
      "p",
      { class: "ledger-sums" },
      `共 ${ledger.length} 笔：安排合计 ${yuan(total(allocations.map((e) => e.amount)))}，拨付合计 ${yuan(total(disbursements.map((e) => e.amount)))}。个人收款人只公开姓氏。`,
    ),
    table(
      ["记账日期", "类型", "资金来源", "金额", "凭证号", "收款方"],
      ledger.map((e) => [
        day(e.entryDate),
        `${label("FundEntryKind", e.kind)}${e.reverses ? "（冲销）" : ""}`,
        e.source ? e.source.name : NONE,
        yuan(e.amount),
        e.voucherNumber,
        e.kind === "DISBURSEMENT" ? `${payee(e)}${e.payeeKind ? `（${label("PayeeKind", e.payeeKind)}）` : ""}` : NONE,
      ]),
      "台账暂无记录",
      "资金台账",
    ),
  );
  return p.name;
}

// ------------------------------------------------------------------ policies

export async function policies(view, _parts, query) {
  const category = query.get("category") || "";
  const after = query.get("after") || null;
  view.append(h("h1", {}, "政策公开 ", h("small", {}, "Policies")), loading());
  const { data } = await graphql(
    `query Policies($filter: PolicyFilter, $after: String) {
      policies(filter: $filter, first: 20, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id title category issuingBody effectiveOn publishedAt }
      }
    }`,
    { filter: category ? { category } : null, after },
  );
  const found = data.policies;
  show(
    view,
    h("h1", {}, "政策公开 ", h("small", {}, "Policies")),
    h(
      "form",
      { class: "filters", onsubmit: (event) => event.preventDefault() },
      choice("policy-category", "政策类别", enumOptions("PolicyCategory"), category, (event) => {
        window.location.hash = route("policies", { category: event.target.value });
      }),
    ),
    h("p", { class: "total" }, `共 ${count(found.totalCount)} 项政策`),
    table(
      ["政策标题", "类别", "发文单位", "生效日期"],
      found.nodes.map((p) => [link(`#/policies/${encodeURIComponent(p.id)}`, p.title), label("PolicyCategory", p.category), p.issuingBody, day(p.effectiveOn)]),
      "暂无已发布的政策",
    ),
    h(
      "nav",
      { class: "pager", "aria-label": "翻页" },
      found.pageInfo.hasNextPage
        ? h("button", { type: "button", onclick: () => (window.location.hash = route("policies", { category, after: found.pageInfo.endCursor })) }, "下一页")
        : null,
    ),
  );
  return "政策公开";
}

export async function policy(view, [id]) {
  view.append(loading());
  const { data } = await graphql(
    `query Policy($id: ID!) {
      node(id: $id) { ... on Policy { id title body category issuingBody effectiveOn publishedAt
        audienceRegions { ... on Township { name } ... on Village { name } } } }
    }`,
    { id },
  );
  const p = data.node;
  show(
    view,
    h("p", {}, link("#/policies", "‹ 全部政策")),
    h("h1", {}, p.title),
    facts([
      ["类别", label("PolicyCategory", p.category)],
      ["发文单位", p.issuingBody],
      ["生效日期", day(p.effectiveOn)],
      ["发布时间", day(p.publishedAt)],
      ["适用地区", p.audienceRegions.map((r) => r.name).join("、") || "全县"],
    ]),
    h("div", { class: "policy-body" }, p.body.split(/\n+/).map((paragraph) => h("p", {}, paragraph))),
  );
  return p.title;
}

// ------------------------------------------------------------ public notices

export async function notices(view, _parts, query) {
  const after = query.get("after") || null;
  view.append(h("h1", {}, "公示公告 ", h("small", {}, "Public notices")), loading());
  const { data } = await graphql(
    `query Notices($after: String) {
      publicNotices(first: 30, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id kind stage villageName townshipName headName reason noticeLevel
          noticeStartsOn noticeEndsOn noticeOpen announcedOn
          appraisal { heldOn attendance votesFor votesAgainst } }
      }
    }`,
    { after },
  );
  const found = data.publicNotices;
  const item = (n) => {
    const where = `${n.townshipName || ""}${n.villageName || ""}`;
    const about = `${where} 户主 ${n.headName || NONE} 的${label("ProposalKind", n.kind)}`;
    return h(
      "article",
      { class: `notice-item ${n.noticeOpen ? "open" : ""}` },
      h(
        "h2",
        {},
        n.announcedOn ? "【公告】" : `【${label("NoticeLevel", n.noticeLevel)}】`,
        about,
      ),
      facts([
        ["办理阶段", label("ProposalStage", n.stage)],
        ["申请理由", n.reason],
        [
          "民主评议",
          n.appraisal
            ? `${day(n.appraisal.heldOn)}，到会 ${n.appraisal.attendance} 人，赞成 ${n.appraisal.votesFor} 票，反对 ${n.appraisal.votesAgainst} 票`
            : NONE,
        ],
        [n.announcedOn ? "公告日期" : "公示期", n.announcedOn ? day(n.announcedOn) : `${day(n.noticeStartsOn)} 至 ${day(n.noticeEndsOn)}`],
      ]),
      n.noticeOpen
        ? h(
            "p",
            { class: "object" },
            "公示期内可提出异议。",
            link(
              route("complaint", {
                kind: "HOUSEHOLD_TREATMENT",
                about: `对${about}公示（${n.noticeStartsOn} 至 ${n.noticeEndsOn}）有异议：`,
              }),
              "在线提出异议",
            ),
          )
        : null,
    );
  };
  show(
    view,
    h("h1", {}, "公示公告 ", h("small", {}, "Public notices")),
    h(
      "section",
      { class: "notice", "aria-labelledby": "objection-route" },
      h("h2", { id: "objection-route" }, "如何提出异议 How to object"),
      h(
        "ol",
        {},
        h("li", {}, "贫困户识别和退出实行“两公示一公告”：村级公示、乡镇公示各不少于 5 天，县级审定后公告。"),
        h("li", {}, "公示期内，任何人都可以向所在村民委员会或乡镇人民政府口头或书面提出异议，由其登记并在公示期满前核实处理；异议未处理完毕的，不得进入下一步。"),
        h("li", {}, "也可以在线提出：点击公示下方的“在线提出异议”，以投诉举报（贫困户认定与帮扶）提交，县扶贫办受理并交办核查，凭受理编号查询办理结果。异议人姓名不会公开。"),
      ),
    ),
    h("p", { class: "total" }, `共 ${count(found.totalCount)} 条公示公告`),
    found.nodes.length ? found.nodes.map(item) : h("p", { class: "empty" }, "目前没有公示中的申请或近期公告"),
    h(
      "nav",
      { class: "pager", "aria-label": "翻页" },
      found.pageInfo.hasNextPage
        ? h("button", { type: "button", onclick: () => (window.location.hash = route("notices", { after: found.pageInfo.endCursor })) }, "下一页")
        : null,
    ),
  );
  return "公示公告";
}

// ---------------------------------------------------------------- complaints

const PROGRESS = "trackingNumber subjectKind status submittedAt assignedUnit assignedOn deadline answer rectification answeredOn conclusion closedOn";

function progressCard(progress) {
  return h(
    "section",
    { class: "progress", "aria-label": "办理进度" },
    h("h2", {}, "受理编号 ", h("span", { class: "tracking", id: "tracking-number" }, progress.trackingNumber)),
    facts([
      ["事项类别", label("ComplaintSubject", progress.subjectKind)],
      ["办理状态", h("strong", { id: "complaint-status" }, label("ComplaintStatus", progress.status))],
      ["受理时间", day(progress.submittedAt)],
      ["承办单位", progress.assignedUnit],
      ["交办日期", day(progress.assignedOn)],
      ["办理期限", day(progress.deadline)],
      ["答复意见", progress.answer],
      ["整改情况", progress.rectification],
      ["答复日期", day(progress.answeredOn)],
      ["核查结论", progress.conclusion ? label("ComplaintConclusion", progress.conclusion) : NONE],
      ["办结日期", day(progress.closedOn)],
    ]),
  );
}

function lookupForm() {
  return h(
    "form",
    {
      class: "lookup",
      onsubmit: (event) => {
        event.preventDefault();
        const number = event.target.elements["tracking-input"].value.trim();
        if (number) window.location.hash = `#/complaint/${encodeURIComponent(number)}`;
      },
    },
    h("h2", {}, "查询办理进度 Follow a complaint"),
    h("div", { class: "field" }, h("label", { for: "tracking-input" }, "受理编号"), h("input", { id: "tracking-input", name: "tracking-input", required: true, autocomplete: "off", placeholder: "JB…" })),
    h("button", { type: "submit" }, "查询"),
  );
}

export async function complaintForm(view, _parts, query) {
  const kind = query.get("kind") || "OTHER";
  const projectId = query.get("project") || null;
  view.append(h("h1", {}, "投诉举报 ", h("small", {}, "Complaints")), loading());
  const { data } = await graphql(
    projectId
      ? "query Where($id: ID!) { project(id: $id) { id name villages { id name township { name } } } }"
      : "query Where { townships(first: 100) { nodes { id name } } }",
    projectId ? { id: projectId } : {},
  );
  const villageSelect = h("select", { id: "complaint-village", name: "complaint-village" }, h("option", { value: "" }, "不指定"));
  const fill = (villages) => {
    show(
      villageSelect,
      h("option", { value: "" }, "不指定"),
      villages.map((v) => h("option", { value: v.id }, `${v.township ? v.township.name : ""}${v.name}`)),
    );
  };
  const where = [];
  if (projectId) {
    fill(data.project.villages);
    where.push(h("p", {}, "所涉项目：", link(`#/projects/${encodeURIComponent(projectId)}`, data.project.name)));
  } else {
    where.push(
      choice(
        "complaint-township",
        "所涉乡镇（可不填）",
        [["", "不指定"], ...data.townships.nodes.map((t) => [t.id, t.name])],
        "",
        async (event) => {
          if (!event.target.value) {
            fill([]);
            return;
          }
          const answer = await graphql(
            "query Villages($region: ID!) { villages(filter: { regionId: $region }, first: 100) { nodes { id name } } }",
            { region: event.target.value },
          );
          fill(answer.data.villages.nodes);
        },
      ),
    );
  }
  where.push(h("div", { class: "field" }, h("label", { for: "complaint-village" }, "所涉村（可不填）"), villageSelect));
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "提交");
  const form = h(
    "form",
    {
      class: "complaint",
      onsubmit: async (event) => {
        event.preventDefault();
        const fields = event.target.elements;
        const input = {
          subjectKind: fields["complaint-kind"].value,
          content: fields["complaint-content"].value,
        };
        if (projectId) input.subjectId = projectId;
        if (villageSelect.value) input.villageId = villageSelect.value;
        const name = fields["complaint-name"].value.trim();
        const phone = fields["complaint-phone"].value.trim();
        if (name) input.complainantName = name;
        if (phone) input.complainantPhone = phone;
        submit.disabled = true;
        try {
          const answer = await must(
            `mutation Submit($input: SubmitComplaintInput!) { submitComplaint(input: $input) { trackingNumber complaint { ${PROGRESS} } } }`,
            { input },
          );
          const number = answer.submitComplaint.trackingNumber;
          form.replaceWith(
            h(
              "div",
              { class: "submitted", role: "status" },
              h("p", {}, "已受理。请记下受理编号，凭编号查询办理进度和答复："),
              progressCard(answer.submitComplaint.complaint),
              h("p", {}, link(`#/complaint/${encodeURIComponent(number)}`, "查询办理进度")),
            ),
          );
        } catch (error) {
          result.replaceChildren(problem(`提交未成功：${error.message}`));
          submit.disabled = false;
        }
      },
    },
    choice(
      "complaint-kind",
      "事项类别 Subject",
      Object.entries(LABELS.ComplaintSubject),
      kind,
      null,
    ),
    where,
    h(
      "div",
      { class: "field" },
      h("label", { for: "complaint-content" }, "投诉内容（必填，5000 字以内；请勿填写身份证号、银行卡号）"),
      h("textarea", { id: "complaint-content", name: "complaint-content", required: true, maxlength: 5000, rows: 6 }, query.get("about") || ""),
    ),
    h("div", { class: "field" }, h("label", { for: "complaint-name" }, "姓名（可不填，匿名投诉）"), h("input", { id: "complaint-name", name: "complaint-name", maxlength: 50, autocomplete: "name" })),
    h(
      "div",
      { class: "field" },
      h("label", { for: "complaint-phone" }, "联系电话（可不填）"),
      h("input", { id: "complaint-phone", name: "complaint-phone", type: "tel", pattern: "[0-9-]{7,20}", autocomplete: "tel" }),
    ),
    h("p", { class: "hint" }, "姓名和电话只有县扶贫办和纪检、审计人员可见，不会向被投诉人或社会公开。"),
    submit,
    result,
  );
  show(
    view,
    h("h1", {}, "投诉举报 ", h("small", {}, "Complaints")),
    h("p", {}, "对贫困户认定与帮扶、扶贫项目、扶贫资金、干部作风等问题，任何人都可以投诉举报，无需登录。提交后获得受理编号，凭编号查询办理进度。"),
    form,
    lookupForm(),
  );
  return "投诉举报";
}

export async function complaintProgress(view, [trackingNumber]) {
  view.append(loading());
  const { data, errors } = await graphql(
    `query Progress($number: String!) { complaintByTrackingNumber(trackingNumber: $number) { ${PROGRESS} } }`,
    { number: trackingNumber },
  ).catch((error) => ({ data: null, errors: error.errors.length ? error.errors : [{ message: error.message }] }));
  const found = data && data.complaintByTrackingNumber;
  show(
    view,
    h("h1", {}, "投诉办理进度 ", h("small", {}, "Complaint progress")),
    found ? progressCard(found) : problem(`未查到受理编号 ${trackingNumber}：${errors.map((e) => e.message).join("；")}`),
    lookupForm(),
    h("p", {}, link("#/complaint", "提交新的投诉举报")),
  );
  return "投诉办理进度";
}
