// The customer page: search a customer (optionally as of a day), show what the services answer, record
// and reverse redemptions through the dashboard (which forwards the user's own token). Data is only
// ever written with textContent, never as HTML.
"use strict";

let current = null; // the last page data shown

function text(value) {
  return value === null || value === undefined || value === "" ? "–" : String(value);
}

function figure(name, value) {
  for (const element of document.querySelectorAll(`[data-figure="${name}"]`)) element.textContent = text(value);
}

function cell(row, value, kind = "td") {
  const element = document.createElement(kind);
  element.textContent = text(value);
  row.appendChild(element);
  return element;
}

function rows(name, data, fill) {
  const body = document.querySelector(`[data-table="${name}"]`);
  const fresh = (data || []).map((item) => {
    const row = document.createElement("tr");
    fill(row, item);
    return row;
  });
  if (fresh.length === 0) {
    const row = document.createElement("tr");
    const empty = cell(row, "none");
    empty.colSpan = 8;
    empty.className = "note";
    fresh.push(row);
  }
  body.replaceChildren(...fresh);
}

function status(message, error = false) {
  const element = document.getElementById("status");
  element.textContent = message;
  element.className = error ? "error" : "";
}

function representativeName(representative) {
  return representative ? `${representative.name} (${representative.agent_id}, ${representative.channel})` : "none";
}

function changed(changes) {
  return Object.entries(changes).map(([name, value]) => {
    const show = (v) => (v && typeof v === "object" ? v.name || v.agent_id : text(v));
    return `${name}: ${show(value.was)} → ${show(value.now)}`;
  }).join("; ");
}

function renderStanding(customer, asOf) {
  figure("as-of-label", asOf ? `as of ${asOf}` : "today");
  figure("tier", customer ? customer.tier || "not VIP" : null);
  for (const element of document.querySelectorAll('[data-figure="honorary"]')) {
    element.textContent = customer && customer.honorary ? "(honorary)" : "";
  }
  figure("standard", customer && customer.standard);
  figure("points", customer && customer.points);
  figure("pending", customer && customer.pending_points !== "0.00"
    ? `${customer.pending_points} from ${customer.pending_from}` : "none");
  figure("vip-since", customer && customer.vip_since);
  figure("channel", customer && customer.serving_channel);
  figure("representative", customer ? representativeName(customer.representative) : null);
  const corrections = (customer && customer.corrections) || [];
  const note = document.getElementById("corrected");
  note.hidden = !(customer && customer.corrected);
  note.textContent = "Corrected: events recorded after this day changed the answer for it.";
  document.getElementById("corrections").hidden = corrections.length === 0;
  rows("corrections", corrections, (row, c) => {
    cell(row, c.recorded_at.slice(0, 19).replace("T", " "));
    cell(row, c.effective_on);
    cell(row, `${c.kind} #${c.revision}: ${changed(c.changed)}`);
  });
}

function renderExplanation(page) {
  const customer = page.customer;
  const standard = customer ? customer.standard : "2015";
  const thresholds = page.ruleset.thresholds[standard] || {};
  figure("threshold-standard", standard);
  figure("ruleset-version", page.ruleset.version);
  for (const tier of ["gold", "platinum", "diamond"]) figure(`threshold-${tier}`, thresholds[tier]);
  const decisions = (page.tier_history && page.tier_history.decisions) || [];
  figure("decision-ruleset", decisions.length ? decisions[0].ruleset_version : null);
  rows("policies", page.points && page.points.policies, (row, p) => {
    cell(row, p.policy_no);
    cell(row, p.channel);
    cell(row, p.state);
    cell(row, p.formula);
    cell(row, p.points);
    cell(row, p.explanation).className = "reason";
  });
  rows("decisions", decisions, (row, d) => {
    cell(row, d.effective_at);
    cell(row, `${text(d.tier)}${d.honorary_tier ? " (honorary)" : ""}`);
    cell(row, d.points);
    cell(row, d.trigger);
    cell(row, d.ruleset_version);
    cell(row, d.reason).className = "reason";
    if (page.as_of && d.effective_at > page.as_of) row.className = "note";
  });
}

function renderRepresentative(page) {
  const assignment = page.representative;
  figure("representative-since", assignment && assignment.since ? `since ${assignment.since}` : "");
  let history = [];
  if (page.representative_history) {
    history = page.representative_history.history.map((h) => ({
      from: h.effective_at, who: h.agent_id ? `${h.agent_name} (${h.agent_id})` : "none", why: h.reason,
    }));
  } else if (page.history) {
    history = page.history.history.filter((h) => h.kind === "representative").map((h) => ({
      from: h.effective_on, who: representativeName(h.state.representative), why: `recorded ${h.recorded_at.slice(0, 10)}`,
    }));
  }
  rows("representatives", history, (row, h) => { cell(row, h.from); cell(row, h.who); cell(row, h.why); });
}

function renderEntitlements(page) {
  const listed = (page.entitlements && page.entitlements.entitlements) || [];
  const period = listed.find((e) => e.period_start);
  figure("period", period ? `value-added period ${period.period_start} – ${period.period_end}` : "no value-added period");
  rows("entitlements", listed, (row, e) => {
    row.dataset.code = e.code;
    cell(row, e.name);
    cell(row, e.category);
    cell(row, e.eligible ? "yes" : "no");
    cell(row, e.quota === null ? "unlimited" : e.quota);
    cell(row, e.used);
    cell(row, e.remaining === null ? "unlimited" : e.remaining);
    cell(row, e.period_start ? `${e.period_start} – ${e.period_end}` : "");
    const actions = cell(row, "");
    actions.className = "actions";
    actions.textContent = "";
    if (e.eligible && !page.as_of && (e.remaining === null || e.remaining > 0)) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Redeem";
      button.dataset.action = "redeem";
      button.addEventListener("click", () => redeem(e.code));
      actions.appendChild(button);
    }
  });
}

function renderRedemptions(page) {
  const listed = (page.redemptions && page.redemptions.redemptions) || [];
  rows("redemptions", listed, (row, r) => {
    row.dataset.redemption = r.redemption_id;
    cell(row, r.redeemed_on);
    cell(row, r.code);
    cell(row, r.vendor_id || "in-house");
    cell(row, r.unit_cost);
    cell(row, r.redeemed_by);
    cell(row, r.reversed_at ? `${r.reversed_at.slice(0, 10)} by ${text(r.reversed_by)}: ${r.reversal_reason}` : "");
    const actions = cell(row, "");
    actions.className = "actions";
    actions.textContent = "";
    if (!r.reversed_at && r.redeemed_by !== page.user) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reverse";
      button.dataset.action = "reverse";
      button.addEventListener("click", () => askReversal(r.redemption_id));
      actions.appendChild(button);
    }
  });
}

function renderDuties(page) {
  const section = document.getElementById("duties");
  const items = page.work_items && (page.work_items.items || page.work_items.work_items || page.work_items);
  section.hidden = !Array.isArray(items);
  if (!section.hidden) {
    rows("duties", items, (row, w) => {
      cell(row, w.item_id || w.id);
      cell(row, w.kind);
      cell(row, w.due_on || w.due);
      cell(row, w.state || w.status);
    });
  }
}

function render(page) {
  current = page;
  document.getElementById("page").hidden = false;
  document.getElementById("user").textContent = `${page.user} (${page.roles.join(", ")})`;
  renderStanding(page.customer, page.as_of);
  renderExplanation(page);
  renderRepresentative(page);
  renderEntitlements(page);
  renderRedemptions(page);
  renderDuties(page);
  const errors = Object.entries(page.errors || {});
  document.getElementById("sources").hidden = errors.length === 0;
  const list = document.querySelector('[data-list="errors"]');
  list.replaceChildren(...errors.map(([name, message]) => {
    const item = document.createElement("li");
    item.textContent = `${name}: ${message}`;
    return item;
  }));
}

async function load() {
  const customerId = document.getElementById("customer-id").value.trim();
  const asOf = document.getElementById("as-of").value;
  if (!customerId) return;
  const query = asOf ? `?as_of=${encodeURIComponent(asOf)}` : "";
  status("loading…");
  const response = await fetch(`/api/customers/${encodeURIComponent(customerId)}${query}`, { credentials: "same-origin" });
  if (response.status === 401) { window.location.assign("/"); return; }
  const body = await response.json();
  if (!response.ok) {
    document.getElementById("page").hidden = true;
    status(body.detail || `refused (${response.status})`, true);
    return;
  }
  render(body);
  status(`${customerId} shown ${asOf ? `as of ${asOf}` : "today"}`);
  history.replaceState(null, "", `/customers?customer_id=${encodeURIComponent(customerId)}${asOf ? `&as_of=${asOf}` : ""}`);
}

async function post(path, body, headers = {}) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, answer };
}

async function redeem(code) {
  const customerId = current.customer_id;
  const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  const done = await post(`/api/customers/${encodeURIComponent(customerId)}/entitlements/${encodeURIComponent(code)}/redemptions`,
    { vendor_id: null, note: "recorded from the customer page" }, { "Idempotency-Key": key });
  await load();
  status(done.ok ? `${code} redeemed (${done.answer.redemption_id})` : `refused: ${done.answer.detail || done.status}`, !done.ok);
}

function askReversal(redemptionId) {
  const dialog = document.getElementById("reverse-dialog");
  dialog.dataset.redemption = redemptionId;
  figure("reverse-id", redemptionId);
  document.getElementById("reverse-reason").value = "";
  dialog.showModal();
}

async function reverse(redemptionId, reason) {
  const customerId = current.customer_id;
  const done = await post(`/api/customers/${encodeURIComponent(customerId)}/redemptions/${encodeURIComponent(redemptionId)}/reversal`,
    { reason });
  await load();
  status(done.ok ? `${redemptionId} reversed` : `refused: ${done.answer.detail || done.status}`, !done.ok);
}

document.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(window.location.search);
  document.getElementById("customer-id").value = params.get("customer_id") || "";
  document.getElementById("as-of").value = params.get("as_of") || "";
  document.getElementById("search").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  document.getElementById("today").addEventListener("click", () => { document.getElementById("as-of").value = ""; load(); });
  const dialog = document.getElementById("reverse-dialog");
  document.getElementById("reverse-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("reverse-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = document.getElementById("reverse-reason").value.trim();
    if (!reason) return;
    dialog.close();
    reverse(dialog.dataset.redemption, reason);
  });
  if (params.get("customer_id")) load();
});
