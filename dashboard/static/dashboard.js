// The operations dashboard: polls /api/overview (same origin, session cookie) and renders every view.
// Data is only ever written with textContent, never as HTML.
"use strict";

const REFRESH_MS = 5000;
const TIERS = ["diamond", "platinum", "gold"];
const COLORS = { diamond: "#4a6fa5", platinum: "#8c96a8", gold: "#c9962b", entered: "#2e8b57", up: "#4a6fa5",
  down: "#d08c2e", left: "#b0413e" };
const PALETTE = ["#4a6fa5", "#c9962b", "#2e8b57", "#b0413e", "#7b5ea7", "#3a9ca6", "#8c96a8"];
const charts = {};

function figure(name, value) {
  for (const element of document.querySelectorAll(`[data-figure="${name}"]`)) {
    element.textContent = value === null || value === undefined ? "–" : String(value);
  }
}

function rows(name, data, cells) {
  const body = document.querySelector(`[data-table="${name}"]`);
  const fresh = data.map((item) => {
    const row = document.createElement("tr");
    for (const [value, kind] of cells(item)) {
      const cell = document.createElement(kind === "th" ? "th" : "td");
      if (kind === "reason") cell.className = "reason";
      cell.textContent = value === null || value === undefined ? "–" : String(value);
      row.appendChild(cell);
    }
    return row;
  });
  if (fresh.length === 0) {
    const row = document.createElement("tr");
    const cell = document.createElement("td");
    cell.colSpan = 8;
    cell.className = "note";
    cell.textContent = "none";
    row.appendChild(cell);
    fresh.push(row);
  }
  body.replaceChildren(...fresh);
}

function chart(id, type, data, options = {}) {
  if (charts[id]) {
    charts[id].data = data;
    charts[id].update("none");
    return;
  }
  charts[id] = new Chart(document.getElementById(id), {
    type, data,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...options },
  });
}

function panelError(section, message) {
  const card = document.getElementById(section);
  let notice = card.querySelector("p.error");
  if (!message) { if (notice) notice.remove(); return; }
  if (!notice) {
    notice = document.createElement("p");
    notice.className = "error";
    card.querySelector("h2").after(notice);
  }
  notice.textContent = message;
}

function renderTiers(tiers) {
  figure("tier-total", tiers.total);
  for (const tier of TIERS) figure(`tier-${tier}`, tiers.distribution[tier]);
  chart("chart-tiers", "doughnut", {
    labels: TIERS,
    datasets: [{ data: TIERS.map((tier) => tiers.distribution[tier]), backgroundColor: TIERS.map((t) => COLORS[t]) }],
  }, { plugins: { legend: { position: "right" } } });
  figure("movements-window", `${tiers.from} to ${tiers.to}`);
  const kinds = ["entered", "up", "down", "left"];
  chart("chart-movements", "bar", {
    labels: tiers.movements.map((day) => day.day),
    datasets: kinds.map((kind) => ({ label: kind, data: tiers.movements.map((day) => day[kind]), backgroundColor: COLORS[kind] })),
  }, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } });
  rows("movements", tiers.movements.slice(-10).reverse(), (day) => [[day.day, "th"], [day.entered], [day.up], [day.down], [day.left]]);
}

function renderCoolingOff(cooling) {
  figure("cooling-off-total", cooling.total);
  const days = [...new Set(cooling.upgrades.map((entry) => entry.due_on))];
  chart("chart-cooling-off", "bar", {
    labels: days,
    datasets: TIERS.map((tier) => ({
      label: `to ${tier}`, backgroundColor: COLORS[tier],
      data: days.map((day) => cooling.upgrades.filter((e) => e.due_on === day && e.to_tier === tier).reduce((s, e) => s + e.customers, 0)),
    })),
  }, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } });
  rows("cooling-off", cooling.upgrades, (entry) => [[entry.due_on, "th"], [entry.to_tier], [entry.customers]]);
}

function renderUnassigned(representation, unassigned) {
  if (representation) {
    figure("unassigned-total", representation.unassigned.total);
    rows("unassigned-channels", representation.unassigned.by_channel,
      (group) => [[group.channel, "th"], [group.customers], [group.oldest_since ? `${group.oldest_since} (${group.oldest_days} d)` : null]]);
    figure("loads-representatives", representation.loads.representatives);
    figure("loads-represented", representation.loads.represented);
    figure("loads-max", representation.loads.max_load);
  }
  if (unassigned) {
    rows("unassigned-customers", unassigned.customers,
      (c) => [[c.customer_id, "th"], [c.tier], [c.serving_channel], [c.unassigned_since], [c.reason, "reason"]]);
  }
}

function renderLoads(representatives) {
  const people = representatives.representatives.filter((person) => person.load > 0);
  chart("chart-loads", "bar", {
    labels: people.map((person) => `${person.agent_id} (${person.channel ?? "?"})`),
    datasets: [{ label: "VIP customers represented", data: people.map((person) => person.load), backgroundColor: "#4a6fa5" }],
  }, { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } });
}

function renderHonorary(honorary) {
  figure("honorary-total", honorary.total);
  const steps = Object.keys(honorary.waiting);
  chart("chart-honorary", "bar", {
    labels: steps,
    datasets: [{ label: "waiting", data: steps.map((step) => honorary.waiting[step]), backgroundColor: "#7b5ea7" }],
  }, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } });
  rows("honorary", steps, (step) => [[step, "th"], [honorary.waiting[step]]]);
  for (const step of steps) figure(`honorary-${step}`, honorary.waiting[step]);
}

function renderGroup(group, movements, assessment) {
  if (group) {
    figure("group-overdue", group.overdue_complaints);
    const levels = Object.keys(group.clients_per_level);
    chart("chart-group-levels", "bar", {
      labels: levels,
      datasets: [{ label: "clients", data: levels.map((level) => group.clients_per_level[level]), backgroundColor: "#2f8f83" }],
    }, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } });
    rows("group-levels", levels, (level) => [[level, "th"], [group.clients_per_level[level]]]);
  }
  if (movements) {
    rows("group-movements", movements.quarters,
      (q) => [[`${movements.year} Q${q.quarter}`, "th"], [q.became_vip], [q.up], [q.down], [q.left_vip]]);
  }
  if (assessment) {
    const share = (value) => (value === null ? "–" : `${(Number(value) * 100).toFixed(1)}%`);
    rows("group-assessment", assessment.branches, (b) => [[b.key ?? "(none)", "th"], [b.vip_clients],
      [share(b.on_time_share)], [share(b.complaints_in_time_share)], [b.average_satisfaction ?? "–"], [share(b.retention)]]);
  }
}

function renderUsage(usage) {
  figure("usage-redemptions", usage.totals.redemptions);
  figure("usage-cost", usage.totals.cost);
  figure("usage-window", `${usage.from} to ${usage.to}`);
  const line = (key) => (entry) => [[entry[key] ?? "(none)", "th"], [entry.redemptions], [entry.cost]];
  rows("usage-channel", usage.by_channel, line("channel"));
  rows("usage-branch", usage.by_branch, line("branch"));
  rows("usage-vendor", usage.by_vendor, line("vendor_id"));
  const groups = [["channel", usage.by_channel, "channel"], ["branch", usage.by_branch, "branch"], ["vendor", usage.by_vendor, "vendor_id"]];
  const labels = groups.flatMap(([kind, entries, key]) => entries.map((entry) => `${kind}: ${entry[key] ?? "(none)"}`));
  chart("chart-usage", "bar", {
    labels,
    datasets: [
      { label: "cost", data: groups.flatMap(([, entries]) => entries.map((e) => Number(e.cost))), backgroundColor: "#c9962b", yAxisID: "y" },
      { label: "uses", data: groups.flatMap(([, entries]) => entries.map((e) => e.redemptions)), backgroundColor: "#4a6fa5", yAxisID: "uses" },
    ],
  }, { scales: { y: { beginAtZero: true, position: "left" }, uses: { beginAtZero: true, position: "right", ticks: { precision: 0 }, grid: { drawOnChartArea: false } } } });
}

function renderPipeline(pipeline) {
  const services = pipeline.services.map((entry) => entry.service);
  const latest = pipeline.rates.length ? pipeline.rates[pipeline.rates.length - 1].rates : {};
  chart("chart-rates", "bar", {
    labels: pipeline.rates.map((point) => new Date(point.at * 1000).toLocaleTimeString()),
    datasets: services.map((service, i) => ({
      label: `${service} events applied/s`, data: pipeline.rates.map((point) => point.rates[service] ?? 0),
      backgroundColor: PALETTE[i % PALETTE.length],
    })),
  }, { scales: { y: { beginAtZero: true, title: { display: true, text: "events/s" } } } });
  const topics = pipeline.services.flatMap((entry) => entry.topics.map((flow) => ({ service: entry.service, ...flow })));
  rows("pipeline-topics", topics, (flow) => [[flow.service, "th"], [flow.topic], [flow.consumed], [flow.processed],
    [flow.duplicates], [flow.stale], [flow.dead_lettered], [flow.lag]]);
  rows("pipeline-services", pipeline.services, (entry) => [[entry.service, "th"], [entry.up ? "up" : "DOWN"],
    [latest[entry.service] ?? "–"], [entry.published], [entry.outbox_backlog]]);
  for (const entry of pipeline.services) figure(`processed-${entry.service}`, entry.processed);
}

function renderDeadLetters(letters) {
  figure("dead-letters-total", letters.total);
  rows("dead-letter-counts", Object.entries(letters.counts), ([topic, count]) => [[topic, "th"], [count]]);
  rows("dead-letters", letters.latest, (letter) => [[letter.failed_at, "th"], [letter.service], [letter.source_topic],
    [letter.position], [letter.reason, "reason"]]);
}

function renderDuties(duties) {
  figure("duties-overdue", duties.overdue);
  figure("duties-year", duties.year);
  figure("duties-vips", duties.compliance.vips);
  figure("duties-compliant", duties.compliance.meeting_every_minimum);
  const share = (value) => (value === null ? "–" : `${Math.round(value * 100)}%`);
  const cells = (group) => [[group.key, "th"], [group.due], [group.on_time], [share(group.on_time_share)],
    [group.overdue]];
  rows("duties-representatives", duties.by_representative.slice(0, 15), cells);
  rows("duties-branches", duties.by_branch, cells);
}

const PANELS = [
  ["tiers", ["tiers"], (o) => o.tiers && renderTiers(o.tiers)],
  ["cooling-off", ["cooling_off"], (o) => o.cooling_off && renderCoolingOff(o.cooling_off)],
  ["unassigned", ["representation", "unassigned"], (o) => renderUnassigned(o.representation, o.unassigned)],
  ["loads", ["representatives"], (o) => o.representatives && renderLoads(o.representatives)],
  ["honorary", ["honorary"], (o) => o.honorary && renderHonorary(o.honorary)],
  ["duties", ["duties"], (o) => o.duties && renderDuties(o.duties)],
  ["usage", ["usage"], (o) => o.usage && renderUsage(o.usage)],
  ["group", ["group", "group_movements", "group_assessment"],
    (o) => renderGroup(o.group, o.group_movements, o.group_assessment)],
  ["pipeline", [], (o) => renderPipeline(o.pipeline)],
  ["dead-letters", ["dead_letters"], (o) => o.dead_letters && renderDeadLetters(o.dead_letters)],
];

async function refresh() {
  const status = document.getElementById("status");
  let overview;
  try {
    const response = await fetch("/api/overview", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) { window.location.assign("/"); return; }
    if (!response.ok) throw new Error(`dashboard answered ${response.status}`);
    overview = await response.json();
  } catch (error) {
    status.textContent = `refresh failed: ${error.message}`;
    status.className = "error";
    return;
  }
  for (const [section, sources, render] of PANELS) {
    const failures = sources.filter((source) => overview.errors[source]).map((source) => overview.errors[source]);
    panelError(section, failures.join("; "));
    render(overview);
  }
  status.textContent = `updated ${new Date(overview.generated_at).toLocaleTimeString()} · ${overview.user}`;
  status.className = "";
  document.body.dataset.loaded = overview.generated_at;
}

document.addEventListener("DOMContentLoaded", () => {
  refresh();
  setInterval(refresh, REFRESH_MS);
});
