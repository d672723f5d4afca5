// Live alerts for signed-in readers: a small client of the graphql-ws
// protocol (subprotocol "graphql-transport-ws") on /graphql of this origin,
// subscribed to `alerts`. connection_init carries the access token; the
// server answers connection_ack, then sends each alert as "next". When the
// socket closes the panel says so and the client tries again, waiting 1, 2,
// 4 … up to 30 seconds; after a token refresh it reconnects with the new
// token.

const DOCUMENT = "subscription { alerts { kind at summary subjectId householdId } }";
const SUBSCRIPTION_ID = "alerts";
const FIRST_DELAY_MS = 1000;
const LONGEST_DELAY_MS = 30_000;
/** How long the server has to acknowledge connection_init. */
const ACK_TIMEOUT_MS = 10_000;
/** Alerts kept on the panel. */
const KEPT = 20;

const KINDS = {
  PROPOSAL_IN_NOTICE: "申请公示",
  OBJECTION_RECORDED: "公示异议",
  MEASURE_OVERDUE: "措施逾期",
  MONITORING_CASE_OPENED: "纳入监测",
  COMPLAINT_ASSIGNED: "投诉交办",
};

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/graphql`;
}

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

/**
 * Runs the alerts panel in `panel` while signed in. `token()` gives a valid
 * access token (or null once signed out). Returns `{ restart, stop }`:
 * restart after a refresh or a new sign-in, stop at sign-out.
 */
export function liveAlerts(panel, token) {
  let socket = null;
  let retry = null;
  let delay = FIRST_DELAY_MS;
  let running = false;
  const alerts = [];

  const state = text("p", "", "live-state");
  const list = document.createElement("ol");
  list.className = "alerts";
  const heading = text("h2", "实时提醒");
  panel.replaceChildren(heading, state, list);

  function say(message, className) {
    state.textContent = message;
    state.className = `live-state ${className}`;
  }

  function show(alert) {
    alerts.unshift(alert);
    alerts.length = Math.min(alerts.length, KEPT);
    list.replaceChildren(
      ...alerts.map((item) => {
        const entry = document.createElement("li");
        entry.append(text("span", KINDS[item.kind] || item.kind, "alert-kind"), " ", text("span", item.summary));
        if (item.householdId) {
          const link = document.createElement("a");
          link.href = `#/households/${encodeURIComponent(item.householdId)}`;
          link.textContent = "查看该户";
          entry.append(" ", link);
        }
        entry.append(" ", text("time", new Date(item.at).toLocaleString("zh-CN", { hour12: false })));
        return entry;
      }),
    );
  }

  function close() {
    clearTimeout(retry);
    retry = null;
    if (socket) {
      const old = socket;
      socket = null;
      old.onclose = null;
      old.close(1000, "restart");
    }
  }

  function later(reason) {
    clearTimeout(retry);
    retry = setTimeout(connect, delay);
    say(`实时提醒已断开${reason ? `（${reason}）` : ""}，${Math.round(delay / 1000)} 秒后重试`, "down");
    delay = Math.min(delay * 2, LONGEST_DELAY_MS);
  }

  async function connect() {
    retry = null;
    const bearer = await token();
    if (!running) return;
    if (!bearer) {
      say("实时提醒已断开（未登录）", "down");
      return;
    }
    let opened;
    try {
      opened = new WebSocket(socketUrl(), "graphql-transport-ws");
    } catch (_) {
      later();
      return;
    }
    socket = opened;
    say("正在连接实时提醒…", "connecting");
    let acknowledged = false;
    let reason = null;
    const ackTimer = setTimeout(() => {
      if (!acknowledged) opened.close(4408, "connection initialisation timeout");
    }, ACK_TIMEOUT_MS);
    opened.onopen = () => {
      opened.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${bearer}` } }));
    };
    opened.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (_) {
        opened.close(4400, "invalid message");
        return;
      }
      switch (message.type) {
        case "connection_ack":
          acknowledged = true;
          clearTimeout(ackTimer);
          delay = FIRST_DELAY_MS;
          say("实时提醒已连接", "up");
          opened.send(JSON.stringify({ id: SUBSCRIPTION_ID, type: "subscribe", payload: { query: DOCUMENT } }));
          break;
        case "ping":
          opened.send(JSON.stringify({ type: "pong" }));
          break;
        case "next":
          if (message.id === SUBSCRIPTION_ID && message.payload && message.payload.data && message.payload.data.alerts) {
            show(message.payload.data.alerts);
          }
          break;
        case "error":
          // The subscription is over: start again on a new socket, later.
          reason = (message.payload || []).map((e) => e.message).join("；");
          opened.close(1000, "error");
          break;
        case "complete":
          opened.close(1000, "complete");
          break;
        default:
          break;
      }
    };
    opened.onclose = (event) => {
      clearTimeout(ackTimer);
      if (socket === opened) socket = null;
      if (running) later(reason || (event.code >= 4000 ? event.reason : null));
    };
  }

  return {
    restart() {
      running = true;
      close();
      delay = FIRST_DELAY_MS;
      connect();
    },
    stop() {
      running = false;
      close();
      alerts.length = 0;
      list.replaceChildren();
      say("", "");
    },
  };
}
