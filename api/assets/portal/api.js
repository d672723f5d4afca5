// The portal's GraphQL client and session. It talks to /graphql like any
// other client: POST JSON, `Authorization: Bearer` once signed in.
//
// The access token lives in memory only; the refresh token in
// sessionStorage ("fupin.refresh"), so that a reload of the tab keeps the
// session and closing the tab ends it. An access token about to expire is
// refreshed first; a refresh token works once, so only one refresh runs at
// a time and every caller waits for it.

const REFRESH_KEY = "fupin.refresh";
/** Refresh this long before the access token expires. */
const MARGIN_MS = 30_000;

const ACCOUNT = "account { username role region { id __typename ... on Township { name } ... on Village { name township { id name } } } }";
const TOKENS = `accessToken expiresIn refreshToken ${ACCOUNT}`;

let access = null; // { token, expiresAt, account }
let refreshing = null;
const listeners = new Set();

/** A request that failed as a whole: no data to show. */
export class ApiError extends Error {
  constructor(message, errors = []) {
    super(message);
    this.errors = errors;
  }
}

function storedRefresh() {
  try {
    return window.sessionStorage.getItem(REFRESH_KEY);
  } catch (_) {
    return null;
  }
}

function storeRefresh(token) {
  try {
    if (token) window.sessionStorage.setItem(REFRESH_KEY, token);
    else window.sessionStorage.removeItem(REFRESH_KEY);
  } catch (_) {
    // Storage refused (private mode): the session lasts as long as the page.
  }
}

function changed() {
  for (const listener of listeners) listener(access && access.account);
}

/** Calls `listener(account or null)` whenever the session starts, is refreshed or ends. */
export function onSession(listener) {
  listeners.add(listener);
}

/** The signed-in account, or null. */
export function account() {
  return access && access.account;
}

function keep(payload) {
  access = {
    token: payload.accessToken,
    expiresAt: Date.now() + payload.expiresIn * 1000,
    account: payload.account,
  };
  storeRefresh(payload.refreshToken);
  changed();
}

function forget() {
  const had = access !== null || storedRefresh() !== null;
  access = null;
  storeRefresh(null);
  if (had) changed();
}

async function post(query, variables, token) {
  const headers = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (_) {
    throw new ApiError("无法连接服务，请检查网络后重试。");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (response.status === 429) {
    throw new ApiError("请求过于频繁，请稍后再试。", (body && body.errors) || []);
  }
  if (!body || typeof body !== "object") {
    throw new ApiError(`服务应答异常（HTTP ${response.status}）。`);
  }
  return { status: response.status, body };
}

/** Swaps the stored refresh token for new tokens; false when there is none or it is refused. */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const refreshToken = storedRefresh();
      if (!refreshToken) {
        forget();
        return false;
      }
      try {
        const { body } = await post(
          `mutation Refresh($token: String!) { refresh(refreshToken: $token) { ${TOKENS} } }`,
          { token: refreshToken },
          null,
        );
        if (body.data && body.data.refresh) {
          keep(body.data.refresh);
          return true;
        }
        forget();
        return false;
      } catch (_) {
        // The network failed: keep the refresh token for the next try.
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

/** A valid access token, refreshed if it is about to expire; null when signed out. */
export async function accessToken() {
  if (access && access.expiresAt - MARGIN_MS > Date.now()) return access.token;
  if (!access && !storedRefresh()) return null;
  return (await refresh()) ? access.token : null;
}

/** Resumes the tab's session from its refresh token, if it has one. */
export async function resume() {
  if (storedRefresh()) await refresh();
  return account();
}

/**
 * Runs a GraphQL document and returns `{ data, errors }` as the API answered
 * (data may be partial: a field the reader may not see is null with an
 * error at its path). Throws an ApiError when there is no data at all.
 */
export async function graphql(query, variables = {}) {
  const token = await accessToken();
  let { status, body } = await post(query, variables, token);
  if (status === 401 && token) {
    // The session ended behind our back (logout elsewhere, a revoked token):
    // try the refresh token once, else go on as the public.
    const again = (await refresh()) ? access.token : null;
    ({ status, body } = await post(query, variables, again));
  }
  const errors = body.errors || [];
  if (!body.data) {
    throw new ApiError(errors.length ? errors.map((e) => e.message).join("；") : `请求失败（HTTP ${status}）。`, errors);
  }
  return { data: body.data, errors };
}

/** Like graphql, for documents whose every error is fatal (mutations, forms). */
export async function must(query, variables = {}) {
  const { data, errors } = await graphql(query, variables);
  if (errors.length) throw new ApiError(errors.map((e) => e.message).join("；"), errors);
  return data;
}

/** The error of `errors` at `path` (a prefix of the error's path), if any. */
export function errorAt(errors, ...path) {
  return errors.find((error) => path.every((step, i) => error.path && error.path[i] === step));
}

/** Signs in; throws an ApiError with the API's message when refused. */
export async function login(username, password) {
  const { body } = await post(
    `mutation Login($username: String!, $password: String!) { login(username: $username, password: $password) { ${TOKENS} } }`,
    { username, password },
    null,
  );
  if (!body.data || !body.data.login) {
    throw new ApiError((body.errors || []).map((e) => e.message).join("；") || "登录失败。", body.errors || []);
  }
  keep(body.data.login);
  return access.account;
}

/** Ends the session on the server (logout), then here, whatever the server said. */
export async function logout() {
  const refreshToken = storedRefresh();
  if (refreshToken) {
    try {
      await post(
        "mutation Logout($token: String!) { logout(refreshToken: $token) }",
        { token: refreshToken },
        access && access.token,
      );
    } catch (_) {
      // Signed out here all the same; the session expires on the server.
    }
  }
  forget();
}
