// The signed-in pages: sign-in, the households of the reader's scope, a
// household's card, and the work of the region (proposals in notice,
// overdue measures, monitoring cases). Every figure is what the reader's
// token may read: rows outside the scope do not exist, and a field the role
// may not see comes back masked, or null with an error at its path, which
// the card shows as "无权查看".

import { account, accessToken, errorAt, graphql, login } from "./api.js";
import { NONE, count, day, facts, h, loading, problem, show, table, yes, yuan } from "./dom.js";
import { label } from "./labels.js";
import { choice, enumOptions, route } from "./public.js";

/** What a field the reader may not see shows as. */
const HIDDEN = "无权查看";

export async function loginPage(view, _parts, query) {
  const next = query.get("next") || "#/households";
  const message = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "登录");
  show(
    view,
    h("h1", {}, "工作人员登录 ", h("small", {}, "Sign in")),
    h(
      "form",
      {
        class: "login",
        onsubmit: async (event) => {
          event.preventDefault();
          const fields = event.target.elements;
          submit.disabled = true;
          message.replaceChildren();
          try {
            await login(fields.username.value.trim(), fields.password.value);
            window.location.hash = next;
          } catch (error) {
            message.replaceChildren(problem(error.message));
            submit.disabled = false;
          }
        },
      },
      h("div", { class: "field" }, h("label", { for: "username" }, "用户名 Username"), h("input", { id: "username", name: "username", required: true, autocomplete: "username" })),
      h(
        "div",
        { class: "field" },
        h("label", { for: "password" }, "密码 Password"),
        h("input", { id: "password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
      ),
      submit,
      message,
    ),
  );
  return "登录";
}

/** The region the reader works in: their township or village, else the county. */
async function scope() {
  const me = account();
  if (me.region) return me.region;
  const { data } = await graphql("query County { county { id name __typename } }");
  return data.county;
}

function scopeName(region) {
  if (region.__typename === "Village" && region.township) return `${region.township.name}${region.name}`;
  return region.name;
}

// ---------------------------------------------------------------- households

const PAGE = 20;
const HOUSEHOLDS = `query Households($filter: HouseholdFilter, $first: Int, $after: String, $last: Int, $before: String) {
  households(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id number status attribute mainCause monitoring size
      head { name }
      village { name township { name } } }
  }
}`;

export async function households(view, _parts, query) {
  const region = await scope();
  const wanted = {
    search: query.get("search") || "",
    status: query.get("status") || "",
    attribute: query.get("attribute") || "",
    mainCause: query.get("mainCause") || "",
    monitoring: query.get("monitoring") || "",
    region: query.get("region") || "",
  };
  view.append(h("h1", {}, "贫困户 ", h("small", {}, "Households")), loading());
  const filter = { regionId: wanted.region || region.id };
  if (wanted.search) filter.search = wanted.search;
  if (wanted.status) filter.status = [wanted.status];
  if (wanted.attribute) filter.attribute = [wanted.attribute];
  if (wanted.mainCause) filter.mainCause = wanted.mainCause;
  if (wanted.monitoring) filter.monitoring = [wanted.monitoring];
  const after = query.get("after");
  const before = query.get("before");
  const paging = before ? { last: PAGE, before } : { first: PAGE, after: after || null };
  const divisions =
    region.__typename === "County"
      ? graphql("query Townships { townships(first: 100) { nodes { id name } } }").then(({ data }) => data.townships.nodes)
      : region.__typename === "Township"
        ? graphql("query Villages($region: ID!) { villages(filter: { regionId: $region }, first: 100) { nodes { id name } } }", {
            region: region.id,
          }).then(({ data }) => data.villages.nodes)
        : Promise.resolve([]);
  const [answer, under] = await Promise.all([
    graphql(HOUSEHOLDS, { filter, ...paging }).catch((error) => ({ failed: error })),
    divisions,
  ]);
  const go = (change) => {
    window.location.hash = route("households", { ...wanted, ...change });
  };
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const fields = event.target.elements;
        go({
          search: fields["household-search"].value.trim(),
          status: fields["household-status"].value,
          attribute: fields["household-attribute"].value,
          mainCause: fields["household-cause"].value,
          monitoring: fields["household-monitoring"].value,
          region: fields["household-region"] ? fields["household-region"].value : "",
        });
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "household-search" }, "户编号或姓名 Number or name"),
      h("input", { id: "household-search", name: "household-search", type: "search", value: wanted.search, autocomplete: "off" }),
    ),
    under.length
      ? choice(
          "household-region",
          region.__typename === "County" ? "乡镇" : "村",
          [["", "全部"], ...under.map((r) => [r.id, r.name])],
          wanted.region,
          null,
        )
      : null,
    choice("household-status", "贫困状态", enumOptions("HouseholdStatus"), wanted.status, null),
    choice("household-attribute", "贫困户属性", enumOptions("HouseholdAttribute"), wanted.attribute, null),
    choice("household-cause", "主要致贫原因", enumOptions("PovertyCause"), wanted.mainCause, null),
    choice("household-monitoring", "监测类别", enumOptions("MonitoringCategory"), wanted.monitoring, null),
    h("button", { type: "submit" }, "查询"),
  );
  const heading = [h("h1", {}, `${scopeName(region)} 贫困户 `, h("small", {}, "Households")), form];
  if (answer.failed) {
    show(view, ...heading, problem(`无法查询：${answer.failed.message}`));
    return "贫困户";
  }
  const found = answer.data.households;
  show(
    view,
    ...heading,
    h("p", { class: "total", id: "household-total" }, `共 ${count(found.totalCount)} 户`),
    table(
      ["户编号", "户主", "所属村", "状态", "属性", "主要致贫原因", "人口", "监测"],
      found.nodes.map((home) => [
        h("a", { href: `#/households/${encodeURIComponent(home.id)}`, class: "household-link" }, home.number),
        home.head ? home.head.name : NONE,
        home.village ? `${home.village.township ? home.village.township.name : ""}${home.village.name}` : NONE,
        label("HouseholdStatus", home.status),
        label("HouseholdAttribute", home.attribute),
        label("PovertyCause", home.mainCause),
        count(home.size),
        home.monitoring ? label("MonitoringCategory", home.monitoring) : NONE,
      ]),
      "没有符合条件的贫困户",
      "贫困户列表",
    ),
    h(
      "nav",
      { class: "pager", "aria-label": "翻页" },
      found.pageInfo.hasPreviousPage && (after || before)
        ? h("button", { type: "button", onclick: () => go({ before: found.pageInfo.startCursor, after: null }) }, "上一页")
        : null,
      found.pageInfo.hasNextPage ? h("button", { type: "button", onclick: () => go({ after: found.pageInfo.endCursor, before: null }) }, "下一页") : null,
    ),
  );
  return "贫困户";
}

// ------------------------------------------------------------ household card

const CARD = `query Card($id: ID!) {
  household(id: $id) {
    id number address phone status attribute identificationStandard enrolledYear liftedOutYear
    monitoring mainCause otherCauses size lastVisitedOn
    village { name township { name } }
    guarantees { food clothing compulsoryEducation basicMedical safeHousing safeDrinkingWater allMet }
    members { name gender relation idNumber birthDate education health labourAbility }
    incomes { year perCapitaNet povertyLine abovePovertyLine }
    plan { total done overdue completionRate measures { category task responsible deadline status overdue } }
    pairings { unit startedOn endedOn helper { username } }
    visits { visitedOn help notes visitor { username } }
    monitoringCases { category risks foundBy startedOn eliminatedOn }
  }
}`;

/** A value, or "无权查看" when the API refused it at `path`. */
function seen(errors, value, ...path) {
  if ((value === null || value === undefined) && errorAt(errors, "household", ...path)) {
    return h("span", { class: "hidden-field" }, HIDDEN);
  }
  return value ?? NONE;
}

/** A list section, or "无权查看" when the API refused the whole list. */
function section(title, errors, rows, path, headings, row, empty) {
  return [
    h("h2", {}, title),
    rows === null || rows === undefined
      ? h("p", { class: "hidden-field" }, errorAt(errors, "household", path) ? HIDDEN : NONE)
      : table(headings, rows.map(row), empty),
  ];
}

export async function householdCard(view, [id]) {
  view.append(loading());
  const { data, errors } = await graphql(CARD, { id });
  const home = data.household;
  const head = (home.members || []).find((m) => m.relation === "HEAD");
  const openBooklet = async (event) => {
    // The booklet takes the token in its fragment and drops it from the
    // address at once; it never reaches a server.
    event.preventDefault();
    const token = await accessToken();
    const target = `/booklet#household=${encodeURIComponent(home.id)}${token ? `&token=${encodeURIComponent(token)}` : ""}`;
    window.open(target, "_blank", "noopener");
  };
  const guarantees = home.guarantees;
  show(
    view,
    h("p", {}, h("a", { href: "#/households" }, "‹ 返回贫困户列表")),
    h("h1", {}, `贫困户档案 ${home.number}`),
    h(
      "p",
      { class: "subtitle" },
      `${home.village ? `${home.village.township ? home.village.township.name : ""}${home.village.name}` : ""} · 户主 `,
      head ? head.name : seen(errors, null, "members"),
    ),
    h("p", {}, h("a", { href: `/booklet#household=${encodeURIComponent(home.id)}`, id: "booklet-link", onclick: openBooklet }, "打印扶贫手册 Booklet")),
    h("h2", {}, "基本情况"),
    facts([
      ["贫困状态", label("HouseholdStatus", home.status)],
      ["贫困户属性", label("HouseholdAttribute", home.attribute)],
      ["识别标准", label("IdentificationStandard", home.identificationStandard)],
      ["识别年度", home.enrolledYear],
      ["脱贫年度", home.liftedOutYear],
      ["监测类别", home.monitoring ? label("MonitoringCategory", home.monitoring) : NONE],
      ["主要致贫原因", label("PovertyCause", home.mainCause)],
      ["其他致贫原因", (home.otherCauses || []).map((c) => label("PovertyCause", c)).join("、") || NONE],
      ["家庭人口", home.size],
      ["家庭住址", seen(errors, home.address, "address")],
      ["联系电话", seen(errors, home.phone, "phone")],
      ["最近走访", day(home.lastVisitedOn)],
      ["两不愁三保障", guarantees ? (guarantees.allMet ? "全部达标" : "未全部达标") : seen(errors, null, "guarantees")],
    ]),
    section(
      "家庭成员 Members",
      errors,
      home.members,
      "members",
      ["姓名", "性别", "与户主关系", "身份证号", "出生日期", "文化程度", "健康状况", "劳动能力"],
      (m, i) => [
        m.name,
        label("Gender", m.gender),
        label("Relation", m.relation),
        seen(errors, m.idNumber, "members", i, "idNumber"),
        seen(errors, m.birthDate, "members", i, "birthDate"),
        label("Education", m.education),
        seen(errors, m.health && label("Health", m.health), "members", i, "health"),
        label("LabourAbility", m.labourAbility),
      ],
      "无在册成员",
    ),
    section(
      "收入情况 Income",
      errors,
      home.incomes,
      "incomes",
      ["年度", "人均纯收入", "当年贫困标准", "是否超过标准"],
      (income) => [income.year, yuan(income.perCapitaNet), yuan(income.povertyLine), yes(income.abovePovertyLine)],
      "尚无收入记录",
    ),
    h("h2", {}, "帮扶计划 Plan"),
    home.plan
      ? h(
          "p",
          {},
          `共 ${home.plan.total} 项，已完成 ${home.plan.done} 项，逾期 ${home.plan.overdue} 项` +
            (home.plan.completionRate === null ? "" : `，完成率 ${Math.round(home.plan.completionRate * 100)}%`),
        )
      : h("p", { class: "hidden-field" }, HIDDEN),
    home.plan
      ? table(
          ["类别", "帮扶任务", "责任人", "时间节点", "进展"],
          home.plan.measures.map((m) => [
            label("MeasureCategory", m.category),
            m.task,
            m.responsible,
            day(m.deadline),
            `${label("MeasureStatus", m.status)}${m.overdue ? "（逾期）" : ""}`,
          ]),
          "尚无帮扶措施",
        )
      : null,
    section(
      "结对帮扶 Helpers",
      errors,
      home.pairings,
      "pairings",
      ["帮扶单位", "帮扶责任人", "结对日期", "解除日期"],
      (p) => [p.unit, p.helper ? p.helper.username : NONE, day(p.startedOn), day(p.endedOn)],
      "尚未结对",
    ),
    section(
      "走访记录 Visits",
      errors,
      home.visits,
      "visits",
      ["走访日期", "走访人", "帮扶内容", "走访记录"],
      (v) => [day(v.visitedOn), v.visitor ? v.visitor.username : NONE, (v.help || []).map((k) => label("HelpKind", k)).join("、"), v.notes],
      "尚无走访记录",
    ),
    section(
      "防返贫监测 Monitoring",
      errors,
      home.monitoringCases,
      "monitoringCases",
      ["监测类别", "风险类型", "发现方式", "识别监测日期", "风险消除日期"],
      (c) => [
        label("MonitoringCategory", c.category),
        c.risks.map((r) => label("RiskType", r)).join("、"),
        label("FoundBy", c.foundBy),
        day(c.startedOn),
        day(c.eliminatedOn),
      ],
      "未纳入监测",
    ),
  );
  return `贫困户档案 ${home.number}`;
}

// ---------------------------------------------------------------------- work

export async function work(view) {
  const region = await scope();
  view.append(h("h1", {}, "待办 ", h("small", {}, "Work")), loading());
  const { data, errors } = await graphql(
    `query Work($region: ID!, $monitored: [MonitoringCategory!]) {
      notice: proposals(stage: NOTICE, regionId: $region, first: 50) {
        totalCount nodes { id kind stage reason noticeStartsOn noticeEndsOn noticeOpen objections { id }
          household { id number head { name } village { name } } }
      }
      township: proposals(stage: TOWNSHIP_CHECKED, regionId: $region, first: 50) {
        totalCount nodes { id kind stage reason townshipNoticeStartsOn townshipNoticeEndsOn noticeOpen objections { id }
          household { id number head { name } village { name } } }
      }
      dataQuality(regionId: $region) {
        kind count
        households(first: 30) { nodes { id number head { name } village { name }
          plan { measures { task deadline responsible overdue } } } }
      }
      monitored: households(filter: { regionId: $region, monitoring: $monitored }, first: 50) {
        totalCount
        nodes { id number monitoring head { name } village { name }
          monitoringCases { category risks startedOn eliminatedOn } }
      }
    }`,
    { region: region.id, monitored: ["UNSTABLE", "MARGINAL", "SUDDEN_DIFFICULTY"] },
  );
  const who = (home) =>
    home ? h("a", { href: `#/households/${encodeURIComponent(home.id)}` }, `${home.number} ${home.head ? home.head.name : ""}`) : HIDDEN;
  const proposals = [...((data.notice && data.notice.nodes) || []), ...((data.township && data.township.nodes) || [])];
  const overdue = (data.dataQuality || []).find((check) => check.kind === "OVERDUE_MEASURES");
  const overdueRows = overdue
    ? overdue.households.nodes.flatMap((home) =>
        home.plan.measures
          .filter((m) => m.overdue)
          .map((m) => [who(home), home.village ? home.village.name : NONE, m.task, m.responsible, day(m.deadline)]),
      )
    : [];
  const failures = errors.length ? problem(`部分内容无法读取：${[...new Set(errors.map((e) => e.message))].join("；")}`) : null;
  show(
    view,
    h("h1", {}, `${scopeName(region)} 待办 `, h("small", {}, "Work")),
    failures,
    h("h2", {}, `公示中的申请 Proposals in notice（${proposals.length}）`),
    table(
      ["申请户", "所属村", "申请事项", "阶段", "公示期", "异议"],
      proposals.map((p) => [
        who(p.household),
        p.household && p.household.village ? p.household.village.name : NONE,
        label("ProposalKind", p.kind),
        label("ProposalStage", p.stage),
        p.stage === "NOTICE"
          ? `${day(p.noticeStartsOn)} 至 ${day(p.noticeEndsOn)}`
          : `${day(p.townshipNoticeStartsOn)} 至 ${day(p.townshipNoticeEndsOn)}`,
        `${p.objections.length} 件${p.noticeOpen ? "（公示期内）" : ""}`,
      ]),
      "没有公示中的申请",
    ),
    h("h2", {}, `逾期的帮扶措施 Overdue measures（${overdue ? `${count(overdue.count)} 户` : HIDDEN}）`),
    table(["贫困户", "所属村", "帮扶任务", "责任人", "时间节点"], overdueRows, overdue ? "没有逾期的帮扶措施" : HIDDEN),
    h("h2", {}, `防返贫监测对象 Monitoring cases（${data.monitored ? count(data.monitored.totalCount) : HIDDEN}）`),
    table(
      ["监测户", "所属村", "监测类别", "风险类型", "识别监测日期"],
      ((data.monitored && data.monitored.nodes) || []).map((home) => {
        const open = home.monitoringCases.filter((c) => !c.eliminatedOn).pop() || home.monitoringCases[home.monitoringCases.length - 1];
        return [
          who(home),
          home.village ? home.village.name : NONE,
          label("MonitoringCategory", home.monitoring),
          open ? open.risks.map((r) => label("RiskType", r)).join("、") : NONE,
          open ? day(open.startedOn) : NONE,
        ];
      }),
      "没有监测对象",
    ),
  );
  return "待办";
}
