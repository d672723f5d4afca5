// Draws a household's booklet (扶贫手册) from one GraphQL request, with the
// reader's own token: what the reader may not see comes back null or masked
// and is printed so. A file of its own because the page's
// Content-Security-Policy allows no inline script; text goes in as text, never
// as markup.
//
// The page is opened as /booklet#household=<household ID>&token=<access
// token>, as the portal's household card opens it (the portal keeps its
// token in memory only). The token is dropped from the address once read: a
// fragment never reaches a server, and a printed or bookmarked address then
// carries no token.
"use strict";

(function () {
  const LABELLED = {
    HouseholdStatus: "status",
    HouseholdAttribute: "attribute",
    IdentificationStandard: "standard",
    PovertyCause: "cause",
    Gender: "gender",
    Relation: "relation",
    Education: "education",
    Health: "health",
    LabourAbility: "labour",
    MeasureCategory: "measure",
    MeasureStatus: "progress",
    PolicyCategory: "policy",
    HelpKind: "help",
    VillageStaffRole: "staff",
    BenefitMode: "mode",
  };

  const QUERY = `query Booklet($id: ID!) {
  household(id: $id) {
    number address phone status attribute identificationStandard
    enrolledYear liftedOutYear mainCause otherCauses
    village { name township { name } }
    members { name gender relation idNumber education health labourAbility }
    booklet {
      issuedOn
      helpers { unit startedOn helper { username } }
      contacts { role name phone unit { name } }
      plan { total done overdue completionRate
        measures { category task standard responsible deadline status completedOn } }
      policies { title category issuingBody effectiveOn }
      incomes { year perCapitaNet povertyLine abovePovertyLine }
      benefitLinks { mode annualIncome startedOn endedOn enterprise { name } }
      visits { visitedOn help notes visitor { username } }
    }
  }
${Object.entries(LABELLED)
  .map(([type, alias]) => `  ${alias}: __type(name: "${type}") { enumValues { name description } }`)
  .join("\n")}
}`;

  const root = document.getElementById("booklet");

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function say(message) {
    root.replaceChildren(element("p", message, "status"));
  }

  function parameters() {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const household = fragment.get("household");
    let token = null;
    if (fragment.has("token")) {
      token = fragment.get("token");
      fragment.delete("token");
      history.replaceState(null, "", `${window.location.pathname}#${fragment}`);
    }
    return { household, token };
  }

  // "Develop production (发展生产脱贫一批)." -> "发展生产脱贫一批"
  function chinese(description, name) {
    const found = /\(([^()]*)\)\.?\s*$/.exec(description || "");
    return found ? found[1] : name;
  }

  function labels(data) {
    const byAlias = {};
    for (const alias of Object.values(LABELLED)) {
      const names = {};
      for (const value of (data[alias] && data[alias].enumValues) || []) {
        names[value.name] = chinese(value.description, value.name);
      }
      byAlias[alias] = names;
    }
    return byAlias;
  }

  const NONE = "—";

  function shown(value) {
    if (value === null || value === undefined || value === "") return NONE;
    if (value === true) return "是";
    if (value === false) return "否";
    return String(value);
  }

  function table(headings, rows, emptyText) {
    if (rows === null || rows === undefined) {
      return element("p", "无权查看", "empty");
    }
    if (rows.length === 0) {
      return element("p", emptyText, "empty");
    }
    const tableNode = element("table");
    const head = element("tr");
    for (const heading of headings) head.append(element("th", heading));
    tableNode.append(head);
    for (const row of rows) {
      const line = element("tr");
      row.forEach((cell, index) => {
        const td = element("td", shown(cell));
        if (headings[index] === "户主签字") td.className = "signature";
        line.append(td);
      });
      tableNode.append(line);
    }
    return tableNode;
  }

  function facts(pairs) {
    const tableNode = element("table");
    for (let i = 0; i < pairs.length; i += 2) {
      const line = element("tr");
      for (const [label, value] of pairs.slice(i, i + 2)) {
        line.append(element("th", label), element("td", shown(value)));
      }
      tableNode.append(line);
    }
    return tableNode;
  }

  function draw(household, named) {
    const label = (kind, value) => (value ? named[kind][value] || value : null);
    const booklet = household.booklet || {};
    const members = household.members || [];
    const head = members.find((m) => m.relation === "HEAD");
    const village = household.village || {};
    const township = village.township || {};
    const plan = booklet.plan || null;

    const parts = [
      element("h1", "扶贫手册"),
      element(
        "p",
        `${shown(township.name)} ${shown(village.name)} · 户编号 ${household.number} · 填发日期 ${shown(booklet.issuedOn)}`,
        "subtitle",
      ),
      element("h2", "一、家庭基本情况"),
      facts([
        ["户主", head && head.name],
        ["家庭人口", members.length],
        ["家庭住址", household.address],
        ["联系电话", household.phone],
        ["贫困户属性", label("attribute", household.attribute)],
        ["识别标准", label("standard", household.identificationStandard)],
        ["贫困状态", label("status", household.status)],
        ["识别年度", household.enrolledYear],
        ["脱贫年度", household.liftedOutYear],
        ["主要致贫原因", label("cause", household.mainCause)],
        [
          "其他致贫原因",
          (household.otherCauses || []).map((c) => label("cause", c)).join("、"),
        ],
      ]),
      element("h2", "二、家庭成员"),
      table(
        ["姓名", "性别", "与户主关系", "身份证号", "文化程度", "健康状况", "劳动能力"],
        household.members &&
          members.map((m) => [
            m.name,
            label("gender", m.gender),
            label("relation", m.relation),
            m.idNumber,
            label("education", m.education),
            label("health", m.health),
            label("labour", m.labourAbility),
          ]),
        "无在册成员",
      ),
      element("h2", "三、帮扶责任人"),
      table(
        ["帮扶单位", "帮扶责任人", "结对日期"],
        booklet.helpers &&
          booklet.helpers.map((p) => [p.unit, p.helper && p.helper.username, p.startedOn]),
        "尚未结对",
      ),
      table(
        ["驻村职务", "姓名", "派出单位", "联系电话"],
        booklet.contacts &&
          booklet.contacts.map((s) => [label("staff", s.role), s.name, s.unit && s.unit.name, s.phone]),
        "本村暂无驻村工作队",
      ),
      element("h2", "四、帮扶措施"),
      plan
        ? element(
            "p",
            `共 ${plan.total} 项，已完成 ${plan.done} 项，逾期 ${plan.overdue} 项` +
              (plan.completionRate === null ? "" : `，完成率 ${Math.round(plan.completionRate * 100)}%`),
          )
        : element("p", "无权查看", "empty"),
      table(
        ["类别", "帮扶任务", "达到标准", "责任人", "时间节点", "进展"],
        plan &&
          plan.measures.map((m) => [
            label("measure", m.category),
            m.task,
            m.standard,
            m.responsible,
            m.deadline,
            m.completedOn ? `${label("progress", m.status)}（${m.completedOn}）` : label("progress", m.status),
          ]),
        "尚无帮扶措施",
      ),
      element("h2", "五、享受政策"),
      table(
        ["政策", "类别", "发文单位", "生效日期"],
        booklet.policies &&
          booklet.policies.map((p) => [p.title, label("policy", p.category), p.issuingBody, p.effectiveOn]),
        "尚无相关政策",
      ),
      element("h2", "六、收入情况"),
      table(
        ["年度", "人均纯收入（元）", "贫困标准（元）", "是否超过标准"],
        booklet.incomes &&
          booklet.incomes.map((i) => [i.year, i.perCapitaNet, i.povertyLine, i.abovePovertyLine]),
        "尚无收入记录",
      ),
      element("h2", "七、利益联结"),
      table(
        ["经营主体", "联结方式", "户年增收（元）", "起止日期"],
        booklet.benefitLinks &&
          booklet.benefitLinks.map((l) => [
            l.enterprise && l.enterprise.name,
            label("mode", l.mode),
            l.annualIncome,
            `${l.startedOn} 至 ${l.endedOn || "今"}`,
          ]),
        "尚无利益联结",
      ),
      element("h2", "八、走访记录"),
      table(
        ["走访日期", "走访人", "帮扶内容", "走访记录", "户主签字"],
        booklet.visits &&
          booklet.visits.map((v) => [
            v.visitedOn,
            v.visitor && v.visitor.username,
            (v.help || []).map((h) => label("help", h)).join("、"),
            v.notes,
            "",
          ]),
        "尚无走访记录",
      ),
    ];
    root.replaceChildren(...parts);
    document.title = `扶贫手册 ${household.number}`;
  }

  async function main() {
    const { household, token } = parameters();
    if (!household) {
      say("请从户档案打开扶贫手册（地址中缺少 household）。");
      return;
    }
    if (!token) {
      say("请先登录后再打开扶贫手册。");
      return;
    }
    let answer;
    try {
      const response = await fetch("/graphql", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query: QUERY, variables: { id: household } }),
      });
      answer = await response.json();
    } catch (_) {
      say("无法连接服务，请稍后重试。");
      return;
    }
    const found = answer.data && answer.data.household;
    if (!found) {
      const first = (answer.errors || [])[0];
      say(first ? `无法读取扶贫手册：${first.message}` : "未找到该户，或无权查看。");
      return;
    }
    draw(found, labels(answer.data));
  }

  main();
})();
