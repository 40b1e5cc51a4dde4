// The dashboard (dashboard.html): loads the figures from the JSON endpoint named by
// section#dashboard[data-url] with the filter form's values, draws them, and loads again on
// every filter change and every data-refresh-seconds (not while the tab is hidden).
//
// State for people and tests, on section#dashboard:
//   data-state  "loading" | "ready" | "error"
//   data-loads  how many answers have been drawn (grows by one per drawn answer)
// and on each chart's canvas, after Chart.js drew it:
//   data-points how many data points (line points, doughnut slices) the chart holds
//   data-total  the sum of its values
"use strict";

(function () {
  var section = document.getElementById("dashboard");
  if (!section || typeof Chart === "undefined") {
    return;
  }
  var form = document.getElementById("dashboard-filters");
  var customRange = document.getElementById("custom-range");
  var errorBox = document.getElementById("dashboard-error");
  var refreshSeconds = parseInt(section.dataset.refreshSeconds || "60", 10);
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var charts = { trend: null, status: null };
  var sequence = 0; // the newest request; older answers arriving late are dropped
  var controller = null;
  var loads = 0;
  var lastLoaded = 0;
  var lastData = null; // the last answer drawn
  var MONEY_KPIS = ["revenue", "aov"];

  // ---- helpers -------------------------------------------------------------------------------

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function palette() {
    return ["--chart-1", "--chart-2", "--chart-3", "--chart-4", "--chart-5", "--chart-6"].map(cssVar);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  var numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

  function formatNumber(value) {
    if (value === null || value === undefined || value === "") {
      return "–";
    }
    var number = Number(value);
    return isNaN(number) ? String(value) : numberFormat.format(number);
  }

  function formatTime(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
  }

  function isIsoDate(text) {
    return /^\d{4}-\d{2}-\d{2}$/.test(String(text));
  }

  // The query for the data endpoint (and for the page's own URL, so a reload keeps the filters).
  // Empty values are left out; the custom dates only go with the custom period.
  function filterQuery() {
    var params = new URLSearchParams();
    var values = new FormData(form);
    var period = values.get("period") || "7d";
    params.set("period", period);
    if (period === "custom") {
      ["from", "to"].forEach(function (name) {
        if (values.get(name)) {
          params.set(name, values.get(name));
        }
      });
    }
    ["account", "storefront"].forEach(function (name) {
      if (values.get(name)) {
        params.set(name, values.get(name));
      }
    });
    return params;
  }

  function customRangeReady() {
    var from = form.elements.from.value;
    var to = form.elements.to.value;
    return Boolean(from && to && from <= to);
  }

  function showError(message) {
    if (message) {
      errorBox.textContent = message;
      errorBox.hidden = false;
    } else {
      errorBox.textContent = "";
      errorBox.hidden = true;
    }
  }

  // ---- drawing -------------------------------------------------------------------------------

  function renderKpis(data) {
    var box = document.getElementById("kpis");
    var cards = (data.kpis || []).map(function (kpi) {
      var card = el("article", "card kpi");
      card.dataset.kpi = kpi.key;
      card.dataset.value = kpi.value === null || kpi.value === undefined ? "" : String(kpi.value);
      card.appendChild(el("h2", "kpi-label", kpi.label));
      var value = el("p", "kpi-value", kpi.display !== undefined && kpi.display !== null
        ? kpi.display : formatNumber(kpi.value));
      card.appendChild(value);
      var change = el("p", "kpi-change");
      var pct = kpi.change_pct;
      if (pct === null || pct === undefined) {
        change.textContent = "nothing to compare";
      } else {
        var number = Number(pct);
        var arrow = number > 0 ? "▲ " : number < 0 ? "▼ " : "";
        change.textContent = arrow + numberFormat.format(Math.abs(number)) + "% vs previous";
        change.classList.add(number > 0 ? "up" : number < 0 ? "down" : "flat");
      }
      change.title = "Previous period: " + previousDisplay(kpi, data.currency);
      card.appendChild(change);
      if (kpi.key === "revenue") {
        var detail = perCurrencyDetail(data);
        if (detail) {
          card.appendChild(detail);
        }
      }
      if (kpi.key === "sync_health" && kpi.done !== undefined && kpi.failed !== undefined) {
        var runs = el("ul", "kpi-detail");
        runs.appendChild(el("li", null, "Jobs: " + formatNumber(kpi.done) + " done, "
          + formatNumber(kpi.failed) + " failed"));
        card.appendChild(runs);
      }
      return card;
    });
    box.replaceChildren.apply(box, cards);
    box.setAttribute("aria-busy", "false");
  }

  // The previous period's figure as the card would show it (money KPIs are minor units).
  function previousDisplay(kpi, currency) {
    if (kpi.previous === null || kpi.previous === undefined) {
      return "none";
    }
    if (MONEY_KPIS.indexOf(kpi.key) >= 0) {
      return formatMoney(kpi.previous, currency);
    }
    if (kpi.key === "sync_health") {
      return numberFormat.format(kpi.previous) + " %";
    }
    return formatNumber(kpi.previous);
  }

  // Money of the answer is in integer minor units of its currency.
  function formatMoney(minor, currency) {
    try {
      var format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(minor / Math.pow(10, digits));
    } catch (e) {
      return formatNumber(minor / 100) + " " + currency; // an unknown code: assume cents
    }
  }

  // Revenue in each order currency (per_currency: [{currency, amount, converted, unconverted}]),
  // shown when orders came in another currency than the base one; "no rate" marks the amounts
  // (of accounts or storefronts without a rate) left out of the total.
  function perCurrencyDetail(data) {
    var entries = data.per_currency || [];
    if (entries.length === 0 || (entries.length === 1 && entries[0].currency === data.currency)) {
      return null;
    }
    var list = el("ul", "kpi-detail");
    entries.forEach(function (entry) {
      var text = formatMoney(entry.amount, entry.currency);
      if (entry.currency !== data.currency) {
        if (entry.converted === null || entry.converted === undefined) {
          text += " (no rate: not in the total)";
        } else {
          text += " = " + formatMoney(entry.converted, data.currency);
          if (entry.unconverted) {
            text += " (" + formatMoney(entry.unconverted, entry.currency)
              + " without a rate: not in the total)";
          }
        }
      }
      var item = el("li", null, text);
      item.dataset.currency = entry.currency;
      list.appendChild(item);
    });
    return list;
  }

  function renderActivity(entries) {
    var feed = document.getElementById("activity-feed");
    if (!entries || entries.length === 0) {
      feed.replaceChildren(el("li", "empty", "No sync activity yet."));
      return;
    }
    var items = entries.map(function (entry) {
      var item = el("li");
      item.dataset.kind = entry.kind || "";
      var badge = el("span", "activity-kind outcome-" + String(entry.outcome || "unknown").toLowerCase(),
        entry.kind);
      badge.title = entry.outcome ? "Outcome: " + entry.outcome : "";
      item.appendChild(badge);
      item.appendChild(el("span", "activity-summary", entry.summary));
      var when = el("time", null, formatTime(entry.at));
      when.dateTime = entry.at;
      item.appendChild(when);
      var meta = [entry.account, entry.storefront ? String(entry.storefront).toUpperCase() : null,
        entry.outcome].filter(Boolean).join(" · ");
      item.appendChild(el("span", "activity-meta", meta));
      return item;
    });
    feed.replaceChildren.apply(feed, items);
  }

  function renderFooter(footer) {
    footer = footer || {};
    section.querySelectorAll("[data-footer]").forEach(function (node) {
      node.textContent = formatNumber(footer[node.dataset.footer]);
    });
    var updated = document.getElementById("dashboard-updated");
    var now = new Date();
    updated.textContent = now.toLocaleTimeString();
    updated.dateTime = now.toISOString();
  }

  // Chart.js plugin: after each draw, write what the chart holds onto its canvas.
  var reportPlugin = {
    id: "kauflandSyncReport",
    afterDraw: function (chart) {
      var points = 0;
      var total = 0;
      chart.data.datasets.forEach(function (dataset, index) {
        if (!chart.isDatasetVisible(index)) {
          return;
        }
        points += chart.getDatasetMeta(index).data.length;
        dataset.data.forEach(function (value) {
          var number = Number(value);
          if (!isNaN(number)) {
            total += number;
          }
        });
      });
      chart.canvas.dataset.points = String(points);
      chart.canvas.dataset.total = String(total);
    },
  };

  function themeOptions() {
    Chart.defaults.color = cssVar("--muted");
    Chart.defaults.borderColor = cssVar("--chart-grid");
  }

  function drawTrend(trend) {
    trend = trend || { labels: [], series: [] };
    var colours = palette();
    var datasets = (trend.series || []).map(function (series, index) {
      var colour = colours[index % colours.length];
      return {
        label: series.label,
        data: series.data,
        borderColor: colour,
        backgroundColor: colour,
        tension: 0.25,
        pointRadius: trend.labels.length > 60 ? 0 : 3,
        yAxisID: index === 0 ? "y" : "y1",
      };
    });
    if (charts.trend) {
      charts.trend.data.labels = trend.labels;
      charts.trend.data.datasets = datasets;
      charts.trend.options.scales.y1.display = datasets.length > 1;
      charts.trend.update();
      return;
    }
    charts.trend = new Chart(document.getElementById("trend-chart"), {
      type: "line",
      data: { labels: trend.labels, datasets: datasets },
      plugins: [reportPlugin],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, position: "left" },
          y1: { beginAtZero: true, position: "right", display: datasets.length > 1,
            grid: { drawOnChartArea: false } },
        },
        // Interactive date filtering: a click on a day narrows the dashboard to that day.
        onClick: function (_event, elements, chart) {
          if (!elements.length) {
            return;
          }
          var label = chart.data.labels[elements[0].index];
          if (isIsoDate(label)) {
            form.elements.period.value = "custom";
            form.elements.from.value = label;
            form.elements.to.value = label;
            customRange.hidden = false;
            load();
          }
        },
      },
    });
  }

  function drawStatus(status) {
    status = status || { labels: [], data: [] };
    var colours = palette();
    var dataset = {
      label: "Orders",
      data: status.data,
      backgroundColor: status.labels.map(function (_label, index) {
        return colours[index % colours.length];
      }),
      borderColor: cssVar("--surface"),
    };
    if (charts.status) {
      charts.status.data.labels = status.labels;
      charts.status.data.datasets = [dataset];
      charts.status.update();
      return;
    }
    charts.status = new Chart(document.getElementById("status-chart"), {
      type: "doughnut",
      data: { labels: status.labels, datasets: [dataset] },
      plugins: [reportPlugin],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function draw(data) {
    themeOptions();
    // A click on a point narrows to its day; hourly points (today) have nothing to narrow to.
    document.getElementById("trend-hint").hidden = !(data.period && data.period.grain === "day");
    renderKpis(data);
    drawTrend(data.trend);
    drawStatus(data.status);
    renderActivity(data.activity);
    renderFooter(data.footer);
  }

  // ---- loading -------------------------------------------------------------------------------

  function load() {
    var period = form.elements.period.value;
    customRange.hidden = period !== "custom";
    if (period === "custom" && !customRangeReady()) {
      showError("Choose a start and an end date (the start on or before the end).");
      return;
    }
    var params = filterQuery();
    history.replaceState(null, "", "?" + params.toString());
    var mine = ++sequence;
    if (controller) {
      controller.abort();
    }
    controller = new AbortController();
    section.dataset.state = "loading";
    fetch(section.dataset.url + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    })
      .then(function (response) {
        // Signed out meanwhile: the data route answers 401 or sends us to the login page;
        // reloading the page lands on the login form and comes back here afterwards.
        var type = response.headers.get("Content-Type") || "";
        if (response.status === 401 || (response.redirected && type.indexOf("json") < 0)) {
          window.location.reload();
          throw new Error("signed out");
        }
        if (!response.ok) {
          return response.json().then(
            function (problem) { throw new Error(problem.detail || problem.title || response.statusText); },
            function () { throw new Error("the server answered " + response.status); }
          );
        }
        return response.json();
      })
      .then(function (data) {
        if (mine !== sequence) {
          return;
        }
        draw(data);
        lastData = data;
        showError(null);
        lastLoaded = Date.now();
        loads += 1;
        section.dataset.loads = String(loads);
        section.dataset.state = "ready";
      })
      .catch(function (error) {
        if (mine !== sequence || error.name === "AbortError") {
          return;
        }
        section.dataset.state = "error";
        showError("Could not load the figures: " + error.message);
      });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "period") {
      customRange.hidden = event.target.value !== "custom";
      if (event.target.value === "custom" && !customRangeReady()) {
        return; // wait for both dates
      }
    }
    load();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load();
  });
  document.getElementById("dashboard-refresh").addEventListener("click", load);

  // Recolour the charts when the theme changes: their colours come from CSS custom properties
  // read at creation, so they are drawn afresh from the last answer.
  document.addEventListener("kaufland-sync:theme", function () {
    if (!lastData) {
      return;
    }
    [charts.trend, charts.status].forEach(function (chart) {
      if (chart) {
        chart.destroy();
      }
    });
    charts.trend = null;
    charts.status = null;
    themeOptions();
    drawTrend(lastData.trend);
    drawStatus(lastData.status);
  });

  // Auto-refresh; a hidden tab is not refreshed, and catches up when shown again.
  if (refreshSeconds > 0) {
    window.setInterval(function () {
      if (!document.hidden) {
        load();
      }
    }, refreshSeconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && Date.now() - lastLoaded > refreshSeconds * 1000) {
        load();
      }
    });
  }

  load();
})();
