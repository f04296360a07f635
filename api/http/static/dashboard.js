/* Wirewatch ops dashboard: live charts and counters on the overview page, and two small helpers on the
 * admin pages (confirm before a delete, copy the new webhook secret).
 * Polls /dashboard/data.json (same-origin, CSP connect-src 'self'); draws with uPlot, which
 * deploy/ui/build.sh copies into /static/vendor/. Every page is fully usable without this file. */
(function () {
  "use strict";
  var POLL_MS = 5000;
  var PALETTE = ["#0b5cad", "#b35900", "#137333", "#a50e0e", "#6b3fa0", "#00838f", "#5d4037", "#c2185b"];
  var charts = {};
  var timer = null;

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  function fmt(value, kind) {
    if (value === null || value === undefined) { return "\u2014"; }
    if (kind === "rate") { return Number(value).toFixed(1); }
    return String(value);
  }

  function setStatus(text, isError) {
    var el = document.getElementById("live-status");
    if (!el) { return; }
    el.textContent = text;
    el.className = isError ? "stamp err" : "stamp";
  }

  function placeholder(fig, text) {
    var plot = fig.querySelector(".plot");
    var p = plot.querySelector(".chart-status");
    if (!p) {
      p = document.createElement("p");
      p.className = "chart-status";
      plot.appendChild(p);
    }
    p.textContent = text;
  }

  function clearPlaceholder(fig) {
    var p = fig.querySelector(".plot .chart-status");
    if (p) { p.remove(); }
  }

  /* Count x positions where at least one series has a value, and the largest value. */
  function measure(series, n) {
    var points = 0, max = 0;
    for (var i = 0; i < n; i++) {
      var any = false;
      for (var k = 0; k < series.length; k++) {
        var v = series[k][i];
        if (v !== null && v !== undefined) { any = true; if (v > max) { max = v; } }
      }
      if (any) { points++; }
    }
    return { points: points, max: max };
  }

  function draw(fig, data) {
    var name = fig.getAttribute("data-chart");
    var unit = fig.getAttribute("data-unit") || "";
    var names = Object.keys(data.series || {});
    var cols = names.map(function (k) { return data.series[k]; });
    var t = data.t || [];
    var m = measure(cols, t.length);
    fig.setAttribute("data-points", String(m.points));
    fig.setAttribute("data-series", String(names.length));
    fig.setAttribute("data-max", String(m.max));
    if (typeof window.uPlot !== "function") {
      placeholder(fig, "Chart library missing: run deploy/ui/build.sh. The tables show the figures.");
      return;
    }
    if (!t.length || !names.length) {
      if (charts[name]) { charts[name].destroy(); delete charts[name]; }
      placeholder(fig, "Waiting for data\u2026 (points appear as the dashboard samples /metrics)");
      return;
    }
    clearPlaceholder(fig);
    var plot = fig.querySelector(".plot");
    var key = names.join("|");
    var payload = [t].concat(cols);
    if (charts[name] && charts[name]._wwKey === key) {
      charts[name].setData(payload);
      return;
    }
    if (charts[name]) { charts[name].destroy(); }
    var bars = fig.getAttribute("data-kind") === "bars";
    var opts = {
      width: Math.max(plot.clientWidth, 240),
      height: 200,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: function (u, lo, hi) { return [0, Math.max(hi * 1.1, 1)]; } } },
      axes: [{ stroke: "#3d4754", grid: { stroke: "#e3e7ec" } },
             { stroke: "#3d4754", grid: { stroke: "#e3e7ec" }, size: 52, label: unit, labelSize: 18 }],
      series: [{}].concat(names.map(function (n, i) {
        var color = PALETTE[i % PALETTE.length];
        var s = { label: n, stroke: color, width: 2, spanGaps: false, points: { show: true, size: 4 } };
        if (bars && uPlot.paths && uPlot.paths.stepped) {
          s.paths = uPlot.paths.stepped({ align: 1 });
          s.fill = color + "22";
        }
        return s;
      }))
    };
    var u = new uPlot(opts, payload, plot);
    u._wwKey = key;
    charts[name] = u;
  }

  function updateLive(data) {
    var els = document.querySelectorAll("[data-live]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      el.textContent = fmt(get(data, el.getAttribute("data-live")), el.getAttribute("data-format"));
    }
    var stamp = document.getElementById("generated-at");
    if (stamp && data.generated_at) {
      stamp.setAttribute("datetime", data.generated_at);
      stamp.textContent = new Date(data.generated_at).toLocaleTimeString();
    }
    updateLag(data.lag || {});
  }

  function cell(tr, text, cls, label) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    if (label) { td.setAttribute("data-label", label); }
    tr.appendChild(td);
  }

  function updateLag(lag) {
    var body = document.querySelector("#lag tbody");
    if (!body || !lag.rows) { return; }
    var frag = document.createDocumentFragment();
    lag.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r.group, "", "group"); cell(tr, r.topic + " / " + r.partition, "", "topic / part.");
      cell(tr, r.committed === null ? "\u2014" : String(r.committed), "num", "committed");
      cell(tr, String(r.end), "num", "end"); cell(tr, String(r.lag), r.lag > 100 ? "num err" : "num", "lag");
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
  }

  function poll() {
    fetch("/dashboard/data.json", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        updateLive(data);
        var figs = document.querySelectorAll("figure[data-chart]");
        for (var i = 0; i < figs.length; i++) {
          var d = data.charts && data.charts[figs[i].getAttribute("data-chart")];
          draw(figs[i], d || { t: [], series: {} });
        }
        document.body.setAttribute("data-polls", String(Number(document.body.getAttribute("data-polls") || 0) + 1));
        setStatus("live", false);
      })
      .catch(function (err) {
        setStatus("live updates paused: " + err.message + " (retrying)", true);
      })
      .then(schedule, schedule);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (document.hidden) { schedule(); } else { poll(); }
    }, POLL_MS);
  }

  function resize() {
    Object.keys(charts).forEach(function (name) {
      var fig = document.querySelector('figure[data-chart="' + name + '"] .plot');
      if (fig) { charts[name].setSize({ width: Math.max(fig.clientWidth, 240), height: 200 }); }
    });
  }

  /* Forms marked data-confirm ask first (a delete); without JavaScript they submit directly. */
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); }
  });

  /* A button with data-copy="ID" copies that input's value (the webhook secret shown once). */
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    input.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { button.textContent = "Press Ctrl+C"; });
    } else {
      button.textContent = "Selected: press Ctrl+C";
    }
  });

  if (document.body.getAttribute("data-page") === "overview") {
    var pending;
    window.addEventListener("resize", function () { clearTimeout(pending); pending = setTimeout(resize, 150); });
    poll();
  }
})();
