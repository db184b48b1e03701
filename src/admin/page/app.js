// The cashdesk operators' page. No framework, nothing from the internet.
// Safety rules kept throughout: data is only ever put into the page as text
// (el() makes text nodes, never markup); the admin token travels only in the
// sign-in request body; the CSRF token lives in this script's memory and goes
// with every state-changing request.
"use strict";

const MASK = "********";
let csrfToken = null;

// ------------------------------------------------------------------ helpers

/** Builds an element; string children become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
const show = (node, visible) => { node.hidden = !visible; };
const text = (value) => (value === null || value === undefined || value === "" ? "—" : String(value));
const when = (value) => (value ? new Date(value).toLocaleString() : "—");
const money = (m) => (m && typeof m === "object" ? `${m.value} ${m.currency}` : text(m));

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** A same-origin JSON request; state-changing ones carry the CSRF token. */
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (_) { data = null; }
  }
  if (res.status === 401 && path !== "/admin/session") signedOut("Your session has ended; sign in again.");
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function status(message) { $("#status").textContent = message || ""; }

// ------------------------------------------------------------------ sign in

function signedIn(token) {
  csrfToken = token;
  show($("#sign-in"), false);
  show($("#app"), true);
  show($("#who"), true);
  show($("#sign-out"), true);
  openTab("settings");
}

function signedOut(message) {
  csrfToken = null;
  show($("#app"), false);
  show($("#who"), false);
  show($("#sign-out"), false);
  show($("#sign-in"), true);
  $("#sign-in-error").textContent = message || "";
  $("#token").focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = $("#token");
  const button = $("#sign-in-button");
  $("#sign-in-error").textContent = "";
  if (!input.value) { $("#sign-in-error").textContent = "Enter the admin token."; return; }
  button.disabled = true;
  try {
    const answer = await api("POST", "/admin/session", { token: input.value });
    input.value = "";
    signedIn(answer.csrf_token);
  } catch (err) {
    $("#sign-in-error").textContent = err.status === 401 ? "That is not the admin token." : err.message;
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  try { await api("DELETE", "/admin/session"); } catch (_) { /* signed out either way */ }
  signedOut("Signed out.");
}

// --------------------------------------------------------------------- tabs

const loaders = { settings: loadSettings, payments: loadPayments, orders: loadOrders, webhooks: loadDeliveries, drawers: loadDrawers, lockouts: loadLockouts };

async function openTab(name) {
  for (const button of $$("#tabs button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const section of $$(".tab")) show(section, section.id === `tab-${name}`);
  status("Loading…");
  try {
    await loaders[name]();
    status("");
  } catch (err) {
    if (err.status !== 401) status(`Could not load: ${err.message}`);
  }
}

// ----------------------------------------------------------------- settings

function setMeta(key, setting) {
  const meta = $(`#setting-${key} [data-meta]`);
  meta.textContent = setting.version
    ? `Version ${setting.version}, changed ${when(setting.updated_at)} by ${setting.updated_by}.`
    : "Not set yet.";
}

function clearErrors(form) {
  for (const node of $$(".field-error, .form-error, .form-ok", form)) node.textContent = "";
  for (const node of $$(".invalid", form)) node.classList.remove("invalid");
}

/** Shows `message` next to the field it names (e.g. credentials[1].password), else under the form. */
function fieldError(form, field, message) {
  const target = $(`[data-field="${CSS.escape(field)}"]`, form);
  if (target) {
    target.textContent = message;
    const input = $(`[data-input="${CSS.escape(field)}"]`, form);
    if (input) input.classList.add("invalid");
    return;
  }
  $(".form-error", form).textContent = message;
}

function serverError(form, err) {
  const message = err.message || "Could not save.";
  const named = /^(?:[A-Z_]+: )?((?:credentials|endpoints)\[\d+\]\.\w+|credentials|endpoints|installment_enabled|shipping_sku)\b/.exec(message);
  fieldError(form, named ? named[1] : "", message);
}

function rowInput(list, index, field, attrs) {
  const name = `${list}[${index}].${field}`;
  return el("td", {},
    el("input", Object.assign({ dataset: { input: name }, "aria-label": name }, attrs)),
    el("p", { class: "field-error", dataset: { field: name } }));
}

function removeButton(tbody, row, renumber) {
  return el("td", {}, el("button", { type: "button", class: "remove", onclick: () => { row.remove(); renumber(tbody); } }, "Remove"));
}

// Row indexes must follow the order rows are sent in, so server messages land on the right row.
function renumber(tbody, list) {
  $$("tr", tbody).forEach((row, i) => {
    for (const node of $$("[data-input], [data-field]", row)) {
      for (const attr of ["input", "field"]) {
        if (node.dataset[attr]) node.dataset[attr] = node.dataset[attr].replace(/\[\d+\]/, `[${i}]`);
      }
    }
    row.dataset.index = String(i);
  });
  void list;
}

function credentialRow(tbody, cred) {
  const index = tbody.children.length;
  const existing = cred !== null;
  const row = el("tr", { dataset: { existing: existing ? "yes" : "no" } },
    rowInput("credentials", index, "username", {
      type: "text", class: "username", value: existing ? cred.username : "", readonly: existing, maxlength: 128,
      placeholder: "new username",
    }),
    rowInput("credentials", index, "password", {
      type: "password", class: "password", autocomplete: "new-password",
      placeholder: existing ? "unchanged" : "password for the new user",
    }));
  row.append(removeButton(tbody, row, (t) => renumber(t, "credentials")));
  tbody.append(row);
  return row;
}

function endpointRow(tbody, endpoint) {
  const index = tbody.children.length;
  const existing = endpoint !== null;
  const row = el("tr", { dataset: { existing: existing ? "yes" : "no", secretId: (existing && endpoint.secret_id) || "" } },
    rowInput("endpoints", index, "url", {
      type: "url", class: "url", value: existing ? endpoint.url : "", readonly: existing, placeholder: "https://example.com/hook",
    }),
    rowInput("endpoints", index, "secret", {
      type: "password", class: "secret", autocomplete: "off", placeholder: existing ? "unchanged" : "whsec_…",
    }));
  row.append(removeButton(tbody, row, (t) => renumber(t, "endpoints")));
  tbody.append(row);
  return row;
}

function fillCashRegister(setting) {
  setMeta("CASH_REGISTER_AUTH_CONF", setting);
  const value = setting.value || { credentials: [], installment_enabled: false, shipping_sku: null };
  const tbody = $("#cr-rows");
  tbody.replaceChildren();
  for (const cred of value.credentials || []) credentialRow(tbody, cred);
  $("#cr-installment").checked = Boolean(value.installment_enabled);
  $("#cr-shipping-sku").value = value.shipping_sku || "";
}

function fillWebhooks(setting) {
  setMeta("ORDER_WEBHOOK_CONF", setting);
  const tbody = $("#wh-rows");
  tbody.replaceChildren();
  for (const endpoint of (setting.value && setting.value.endpoints) || []) endpointRow(tbody, endpoint);
}

async function loadSettings() {
  const { settings } = await api("GET", "/admin/api/settings/");
  for (const setting of settings) {
    if (setting.key === "CASH_REGISTER_AUTH_CONF") fillCashRegister(setting);
    if (setting.key === "ORDER_WEBHOOK_CONF") fillWebhooks(setting);
  }
  for (const details of $$("details.history")) if (details.open) await loadHistory(details);
}

/** Checks what the server would refuse anyway, so the message appears before a round trip. */
function checkRows(form, rows, list, idField, secretField, what) {
  let ok = true;
  const seen = new Set();
  rows.forEach((row, i) => {
    const id = $(`[data-input="${list}[${i}].${idField}"]`, row).value.trim();
    const secret = $(`[data-input="${list}[${i}].${secretField}"]`, row).value;
    if (!id) { fieldError(form, `${list}[${i}].${idField}`, `${idField} is required`); ok = false; }
    if (list === "credentials" && id && seen.has(id)) {
      fieldError(form, `${list}[${i}].${idField}`, `${id} appears twice`); ok = false;
    }
    seen.add(id);
    if (row.dataset.existing === "no" && !secret) {
      fieldError(form, `${list}[${i}].${secretField}`, `${secretField} is required for a new ${what}`); ok = false;
    }
  });
  return ok;
}

async function saveSetting(form, key, value, fill) {
  const button = $("button[type=submit]", form);
  button.disabled = true;
  try {
    const saved = await api("PUT", `/admin/api/settings/${key}/`, { value });
    fill(saved);
    $(".form-ok", form).textContent = `Saved: version ${saved.version}. In force on every instance within 2 seconds.`;
    const details = $(`details.history[data-key="${key}"]`);
    details.open = true;
    await loadHistory(details);
  } catch (err) {
    if (err.status !== 401) serverError(form, err);
  } finally {
    button.disabled = false;
  }
}

async function saveCashRegister(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const rows = $$("#cr-rows tr");
  if (!checkRows(form, rows, "credentials", "username", "password", "credential")) return;
  const credentials = rows.map((row) => ({
    username: $(".username", row).value.trim(),
    password: $(".password", row).value || MASK,
  }));
  const sku = $("#cr-shipping-sku").value.trim();
  const value = { credentials, installment_enabled: $("#cr-installment").checked, shipping_sku: sku === "" ? null : sku };
  await saveSetting(form, "CASH_REGISTER_AUTH_CONF", value, fillCashRegister);
}

async function saveWebhooks(event) {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  const rows = $$("#wh-rows tr");
  if (!checkRows(form, rows, "endpoints", "url", "secret", "endpoint")) return;
  // A kept secret goes back masked with its id: one URL may list two secrets while they rotate.
  const endpoints = rows.map((row) => {
    const secret = $(".secret", row).value;
    const endpoint = { url: $(".url", row).value.trim(), secret: secret || MASK };
    if (!secret && row.dataset.secretId) endpoint.secret_id = row.dataset.secretId;
    return endpoint;
  });
  await saveSetting(form, "ORDER_WEBHOOK_CONF", { endpoints }, fillWebhooks);
}

async function loadHistory(details) {
  const key = details.dataset.key;
  const list = $(".history-list", details);
  let history;
  try {
    ({ history } = await api("GET", `/admin/api/settings/${key}/history/`));
  } catch (err) {
    list.replaceChildren(el("li", { class: "error" }, `Could not load the history: ${err.message}`));
    return;
  }
  if (!history.length) { list.replaceChildren(el("li", {}, "No changes yet.")); return; }
  list.replaceChildren(...history.map((entry) => el("li", { class: "history-entry" },
    el("strong", {}, `Version ${entry.version}`), ` — ${when(entry.updated_at)} by ${entry.updated_by}`,
    el("ul", { class: "changes" }, (entry.changes.length ? entry.changes : ["no change"]).map((c) => el("li", {}, c))))));
}

// ------------------------------------------------------------------- lists

function table(node, columns, rows, empty) {
  const head = el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title))));
  const body = el("tbody", {}, rows.length
    ? rows.map((row) => el("tr", {}, columns.map(([, cell, cls]) => el("td", { class: cls || null }, cell(row)))))
    : el("tr", {}, el("td", { colspan: columns.length }, empty)));
  node.replaceChildren(head, body);
}

async function loadPayments() {
  const { payments } = await api("GET", "/admin/api/payments/?limit=100");
  table($("#payments-table"), [
    ["When", (p) => when(p.created_at)], ["Order number", (p) => p.order_number], ["Source", (p) => p.source],
    ["Transaction", (p) => p.transaction_id], ["Amount", (p) => p.paid_amount, "num"], ["Terminal", (p) => text(p.terminal_code)],
    ["Staff", (p) => text(p.staff_id)], ["Store", (p) => text(p.store_id)],
    ["Order created", (p) => (p.order_created_at ? when(p.order_created_at) : "pending")],
  ], payments, "No payments yet.");
}

async function loadOrders() {
  const { orders } = await api("GET", "/admin/api/orders/?limit=100");
  table($("#orders-table"), [
    ["When", (o) => when(o.created_at)], ["Order number", (o) => o.order_number], ["Status", (o) => o.status],
    ["Source", (o) => o.source], ["Shop / store", (o) => text(o.shop_id || o.store_id)], ["Items", (o) => o.total_quantity, "num"],
    ["Total", (o) => `${o.total_amount} ${o.currency}`, "num"],
  ], orders, "No orders yet.");
}

async function loadDeliveries() {
  const { deliveries } = await api("GET", "/admin/api/webhooks/deliveries/?limit=100");
  const root = $("#deliveries");
  if (!deliveries.length) { root.replaceChildren(el("p", {}, "No deliveries yet.")); return; }
  root.replaceChildren(...deliveries.map((d) => {
    const attempts = el("table", {},
      el("thead", {}, el("tr", {}, ["Attempted", "Status", "Latency", "Error", "Response"].map((h) => el("th", {}, h)))),
      el("tbody", {}, d.attempt_log.length ? d.attempt_log.map((a) => el("tr", {},
        el("td", {}, when(a.attempted_at)), el("td", {}, text(a.status_code)), el("td", { class: "num" }, `${a.latency_ms} ms`),
        el("td", {}, text(a.error)), el("td", {}, text(a.response_snippet))))
        : el("tr", {}, el("td", { colspan: 5 }, "Not attempted yet."))));
    const replay = d.state === "delivered" ? null : el("button", {
      type: "button", class: "replay", onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api("POST", `/admin/api/webhooks/deliveries/${encodeURIComponent(d.id)}/replay/`);
          status(`Delivery ${d.id} will be sent again within a second.`);
          await loadDeliveries();
        } catch (err) {
          event.target.disabled = false;
          if (err.status !== 401) status(`Replay refused: ${err.message}`);
        }
      },
    }, "Replay");
    return el("div", { class: "delivery", dataset: { id: String(d.id) } },
      el("p", {}, el("strong", {}, `#${d.id} ${d.event_type}`), " → ", d.url, " — ",
        el("span", { class: `state-${d.state}` }, d.state), ` — ${d.attempts} attempt(s)`,
        d.state === "pending" ? `, next ${when(d.next_attempt_at)}` : "", " ", replay),
      d.last_error ? el("p", { class: "error" }, `Last error: ${d.last_error}`) : null,
      el("details", {}, el("summary", {}, "Attempts"), attempts));
  }));
}

async function loadDrawers() {
  const { cash_drawers: drawers } = await api("GET", "/admin/api/drawers/");
  const over = drawers.filter((d) => d.over_limit);
  $("#drawers-over-limit").replaceChildren(over.length
    ? el("p", { class: "error" }, `Over their cash limit: ${over.map((d) => `${d.name} (${d.cash_drawer_id}, store ${d.store_id}): ${money(d.balance)} > ${money(d.cash_limit)}`).join("; ")}`)
    : el("p", {}, "No drawer is over its cash limit."));
  table($("#drawers-table"), [
    ["Store", (d) => d.store_id], ["Drawer", (d) => `${d.name} (${d.cash_drawer_id})`], ["Status", (d) => d.status],
    ["Open since", (d) => when(d.activated_at)], ["Balance now", (d) => (d.balance ? money(d.balance) : "—"), "num"],
    ["Cash in today", (d) => money(d.today_cash_in), "num"], ["Cash out today", (d) => money(d.today_cash_out), "num"],
    ["Cash limit", (d) => (d.cash_limit ? money(d.cash_limit) : "—"), "num"],
    ["Over limit", (d) => (d.over_limit ? el("strong", { class: "error" }, "OVER LIMIT") : "no")],
  ], drawers, "No cash drawers yet.");
  const { deposits } = await api("GET", "/admin/api/deposits/");
  table($("#deposits-table"), [
    ["Store", (d) => d.store_id], ["Bag", (d) => d.bag_number], ["Status", (d) => d.status],
    ["Amount", (d) => money(d.amount), "num"], ["Prepared", (d) => when(d.created_at)],
    ["In transit since", (d) => when(d.in_transit_at)], ["Counts", (d) => String(d.count_ids.length), "num"],
  ], deposits, "No deposits waiting for the bank.");
}

async function loadLockouts() {
  const { lockouts } = await api("GET", "/admin/api/lockouts/");
  const clear = (l) => el("button", {
    type: "button", class: "clear", onclick: async (event) => {
      event.target.disabled = true;
      try {
        await api("DELETE", `/admin/api/lockouts/${encodeURIComponent(l.protocol)}/${encodeURIComponent(l.subject)}/`);
        status(`Cleared: ${l.address}${l.username === null ? "" : ` (${l.username})`} may sign in again.`);
        await loadLockouts();
      } catch (err) {
        event.target.disabled = false;
        if (err.status !== 401) status(`Not cleared: ${err.message}`);
      }
    },
  }, "Clear");
  table($("#lockouts-table"), [
    ["Protocol", (l) => l.protocol], ["Address", (l) => l.address], ["Username", (l) => (l.kind === "pair" ? l.username : "any")],
    ["Failures (15 min)", (l) => l.failures, "num"], ["Unlocks", (l) => when(l.unlocks_at)], ["", clear],
  ], lockouts, "Nobody is locked out.");
}

// -------------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", async () => {
  $("#sign-in-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  for (const button of $$("#tabs button")) button.addEventListener("click", () => openTab(button.dataset.tab));
  for (const button of $$("[data-refresh]")) button.addEventListener("click", () => openTab(button.dataset.refresh));
  $("#cr-add").addEventListener("click", () => $(".username", credentialRow($("#cr-rows"), null)).focus());
  $("#wh-add").addEventListener("click", () => $(".url", endpointRow($("#wh-rows"), null)).focus());
  $("#cr-form").addEventListener("submit", saveCashRegister);
  $("#wh-form").addEventListener("submit", saveWebhooks);
  for (const details of $$("details.history")) {
    details.addEventListener("toggle", () => { if (details.open) loadHistory(details); });
  }
  try {
    const session = await api("GET", "/admin/session");
    signedIn(session.csrf_token);
  } catch (_) {
    signedOut("");
  }
});
