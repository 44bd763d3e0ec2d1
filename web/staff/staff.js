// The staff page (index.html): the report for a period from /staff/api/report, and the registry facts to
// check from /staff/api/stale. Every text from the store (visitor questions, comments, answers) goes on the
// page through textContent or an SVG <title>'s textContent: never as HTML.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var CHANNELS = { socketio: "webbchatt", rest: "REST", slack: "Slack", cmdline: "rasa shell" };
  var REASONS = { fallback: "förstod inte (Menade du …?)", declined: "nej till alla förslag",
                  unknown_place: "okänd ort", out_of_scope: "utanför ämnet", no_facts: "inga uppgifter" };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function pct(rate) { return rate === null || rate === undefined ? "–" : Math.round(rate * 100) + " %"; }

  function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : ""; }

  function conversationLink(sender, answerId) {
    var href = "/staff/conversation?sender=" + encodeURIComponent(sender);
    if (answerId && /^[0-9a-f]+$/.test(answerId)) href += "#a-" + answerId;
    return href;
  }

  function channelName(ch) { return CHANNELS[ch] || ch; }

  function channelClass(ch, list) {
    var i = list.indexOf(ch);
    return "ch-" + (i < 0 ? 0 : i % 6);
  }

  function table(headers, rows, numeric) {
    var t = el("table");
    var tr = el("tr");
    headers.forEach(function (h, i) { tr.appendChild(el("th", numeric && numeric[i] ? { class: "num", scope: "col" } : { scope: "col" }, h)); });
    t.appendChild(el("thead")).appendChild(tr);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (row) {
      var r = body.appendChild(el("tr"));
      row.forEach(function (cell, i) {
        var td = r.appendChild(el("td", numeric && numeric[i] ? { class: "num" } : {}));
        if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      });
    });
    return t;
  }

  function empty(node, text) { clear(node).appendChild(el("p", { class: "empty" }, text || "Inga under perioden.")); }

  // --- charts ------------------------------------------------------------------------------------------

  // Stacked bars per day, one colour per channel; each bar part is a <rect> with data-day, data-channel and
  // data-count (its value), and a <title> for the tooltip.
  function dayChart(node, days, field, channels) {
    clear(node);
    var max = 0;
    days.forEach(function (d) { max = Math.max(max, d[field]); });
    var W = 760, H = 200, left = 36, bottom = 28, top = 8;
    var step = (W - left) / Math.max(days.length, 1);
    var bw = Math.max(2, Math.min(28, step * 0.75));
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "bars", role: "img",
                         "aria-label": (field === "messages" ? "Meddelanden" : "Samtal") + " per dag och kanal",
                         "data-total": days.reduce(function (a, d) { return a + d[field]; }, 0) });
    var scale = max ? (H - top - bottom) / max : 0;
    s.appendChild(svg("line", { x1: left, y1: H - bottom, x2: W, y2: H - bottom, class: "axis" }));
    s.appendChild(svg("text", { x: left - 6, y: top + 10, class: "tick", "text-anchor": "end" }, max));
    s.appendChild(svg("text", { x: left - 6, y: H - bottom, class: "tick", "text-anchor": "end" }, 0));
    var labelEvery = Math.ceil(days.length / 10);
    days.forEach(function (d, i) {
      var x = left + i * step + (step - bw) / 2;
      var y = H - bottom;
      channels.forEach(function (ch) {
        var c = d.channels[ch];
        var n = c ? c[field] : 0;
        if (!n) return;
        var h = n * scale;
        y -= h;
        var r = svg("rect", { x: x.toFixed(1), y: y.toFixed(1), width: bw.toFixed(1), height: h.toFixed(1),
                              class: "bar " + channelClass(ch, channels), "data-day": d.day, "data-channel": ch,
                              "data-count": n });
        r.appendChild(svg("title", {}, d.day + " · " + channelName(ch) + ": " + n));
        s.appendChild(r);
      });
      if (i % labelEvery === 0) {
        s.appendChild(svg("text", { x: (x + bw / 2).toFixed(1), y: H - 10, class: "tick", "text-anchor": "middle" },
                          d.day.slice(5)));
      }
    });
    node.appendChild(s);
  }

  // Horizontal bars: one <rect data-count> per county or centre, label and count as SVG text.
  function barList(node, items, labelOf, countOf) {
    clear(node);
    if (!items.length) { empty(node); return; }
    var max = Math.max.apply(null, items.map(countOf));
    var W = 520, row = 22, left = 200, H = items.length * row + 4;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "hbars", role: "img", "aria-label": "Antal frågor" });
    items.forEach(function (it, i) {
      var y = i * row + 2;
      var n = countOf(it);
      var w = max ? (W - left - 40) * n / max : 0;
      s.appendChild(svg("text", { x: left - 6, y: y + 15, class: "label", "text-anchor": "end" }, labelOf(it)));
      var r = svg("rect", { x: left, y: y + 3, width: Math.max(w, 1).toFixed(1), height: row - 6, class: "bar ch-0",
                            "data-count": n, "data-key": it.code || it.id || "" });
      r.appendChild(svg("title", {}, labelOf(it) + ": " + n));
      s.appendChild(r);
      s.appendChild(svg("text", { x: left + w + 6, y: y + 15, class: "count" }, n));
    });
    node.appendChild(s);
  }

  // --- report ------------------------------------------------------------------------------------------

  function render(rep) {
    var t = rep.totals;
    var summary = clear($("summary"));
    [["Period", rep.period.since + " – " + rep.period.until], ["Samtal", t.conversations],
     ["Meddelanden från besökare", t.messages], ["Botens svar", t.bot_messages],
     ["Obesvarade frågor", t.unanswered],
     ["Betyg", "👍 " + t.feedback_up + " · 👎 " + t.feedback_down + " (andel 👍 " + pct(rep.feedback.rate) + ")"]]
      .forEach(function (kv) { summary.appendChild(el("dt", {}, kv[0])); summary.appendChild(el("dd", {}, kv[1])); });

    var channels = Object.keys(rep.channels);
    var legend = clear($("legend"));
    channels.forEach(function (ch) {
      var item = legend.appendChild(el("span", { class: "legend-item" }));
      item.appendChild(el("span", { class: "swatch " + channelClass(ch, channels) }));
      item.appendChild(document.createTextNode(channelName(ch) + " (" + rep.channels[ch].conversations + " samtal, " +
                                               rep.channels[ch].messages + " meddelanden)"));
    });
    dayChart($("chart-conversations"), rep.days, "conversations", channels);
    dayChart($("chart-messages"), rep.days, "messages", channels);
    barList($("chart-counties"), rep.counties, function (c) { return c.name; }, function (c) { return c.questions; });
    barList($("chart-centres"), rep.centres, function (c) { return c.name; }, function (c) { return c.questions; });

    if (rep.topics.length) {
      clear($("topics")).appendChild(table(["Ämne", "Frågor"], rep.topics.map(function (r) { return [r.name, r.questions]; }), [false, true]));
    } else empty($("topics"));

    var groups = rep.unanswered.groups;
    if (groups.length) {
      var list = clear($("unanswered")).appendChild(el("ol", { class: "groups" }));
      groups.forEach(function (g) {
        var li = list.appendChild(el("li", { class: "group", "data-count": g.count }));
        var head = li.appendChild(el("p"));
        head.appendChild(el("q", { class: "visitor-text" }, g.text));
        head.appendChild(el("span", { class: "count-badge" }, g.count + " st"));
        var why = Object.keys(g.reasons).map(function (r) { return (REASONS[r] || r) + " " + g.reasons[r]; }).join(", ");
        li.appendChild(el("p", { class: "meta" }, why + " · senast " + when(g.last)));
        if (g.texts.length > 1) {
          var similar = li.appendChild(el("ul", { class: "similar" }));
          g.texts.slice(1, 6).forEach(function (x) { similar.appendChild(el("li", { class: "visitor-text" }, x)); });
        }
        li.appendChild(el("a", { href: conversationLink(g.last_sender) }, "Senaste samtalet"));
      });
    } else empty($("unanswered"));

    var fb = rep.feedback;
    [["rates-topics", fb.topics, "Ämne"], ["rates-centres", fb.centres, "Verksamhet"]].forEach(function (x) {
      if (!x[1].length) { empty($(x[0]), "Inga betyg under perioden."); return; }
      clear($(x[0])).appendChild(table([x[2], "👍", "👎", "Andel 👍"], x[1].map(function (r) {
        return [r.name, r.up, r.down, pct(r.rate)];
      }), [false, true, true, true]));
    });

    if (fb.down_list.length) {
      var downs = clear($("downs")).appendChild(el("ol", { class: "downs" }));
      fb.down_list.forEach(function (d) {
        var li = downs.appendChild(el("li", { class: "down" }));
        li.appendChild(el("p", { class: "meta" }, when(d.time) + " · " + channelName(d.channel || "") +
          (d.centre_name ? " · " + d.centre_name : "") + (d.topic_name ? " · " + d.topic_name : "")));
        var q = li.appendChild(el("p"));
        q.appendChild(el("strong", {}, "Fråga: "));
        q.appendChild(el("span", { class: "visitor-text question" }, d.question || "–"));
        var a = li.appendChild(el("p"));
        a.appendChild(el("strong", {}, "Svar: "));
        a.appendChild(el("span", { class: "answer" }, (d.answer || "–").slice(0, 400)));
        var c = li.appendChild(el("p"));
        c.appendChild(el("strong", {}, "Kommentar: "));
        c.appendChild(el("span", { class: "visitor-text comment" }, d.comment || "–"));
        li.appendChild(el("a", { href: conversationLink(d.sender, d.answer_id), class: "transcript-link" }, "Visa samtalet"));
      });
    } else empty($("downs"), "Inga 👎 under perioden.");
  }

  function status(text, isError) {
    var s = $("status");
    s.textContent = text;
    s.className = "status" + (isError ? " error" : "");
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) { window.location.assign("/staff/login"); throw new Error("inte inloggad"); }
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : "fel " + r.status);
        return body;
      });
    });
  }

  function load() {
    var since = $("since").value, until = $("until").value;
    status("Hämtar …");
    return getJSON("/staff/api/report?since=" + encodeURIComponent(since) + "&until=" + encodeURIComponent(until))
      .then(function (rep) { render(rep); status("Visar " + rep.period.since + " – " + rep.period.until + "."); document.body.setAttribute("data-loaded", "report"); })
      .catch(function (e) { status("Kunde inte hämta rapporten: " + e.message, true); });
  }

  function isoDay(d) {
    var m = d.getMonth() + 1, day = d.getDate();
    return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }

  // --- registry upkeep ---------------------------------------------------------------------------------

  function upkeepStatus(text, isError) {
    var s = $("upkeep-status");
    s.textContent = text;
    s.className = "status" + (isError ? " error" : "");
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function confirmFacts(body, button) {
    var by = $("confirm-by").value.trim();
    if (!by) { upkeepStatus("Skriv ditt namn först, så syns vem som bekräftade.", true); $("confirm-by").focus(); return; }
    body.by = by;
    button.disabled = true;
    fetch("/staff/api/confirm", { method: "POST", credentials: "same-origin",
                                  headers: { "Content-Type": "application/json", Accept: "application/json" },
                                  body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || "fel " + r.status); return b; }); })
      .then(function (b) { upkeepStatus("Bekräftade " + b.confirmed + " uppgift" + (b.confirmed === 1 ? "" : "er") + "."); return loadStale(); })
      .catch(function (e) { button.disabled = false; upkeepStatus("Kunde inte bekräfta: " + e.message, true); });
  }

  function renderStale(facts) {
    var node = clear($("upkeep"));
    if (!facts.length) { node.appendChild(el("p", { class: "empty" }, "Alla uppgifter är bekräftade och aktuella.")); return; }
    var byCentre = {};
    var order = [];
    facts.forEach(function (f) {
      if (!byCentre[f.centre]) { byCentre[f.centre] = []; order.push(f.centre); }
      byCentre[f.centre].push(f);
    });
    order.forEach(function (centre) {
      var items = byCentre[centre];
      var sec = node.appendChild(el("section", { class: "centre", "data-centre": centre }));
      var h = sec.appendChild(el("h3", {}, items[0].centre_name + " (" + items.length + ")"));
      var all = el("button", { type: "button", class: "secondary confirm-centre" }, "Bekräfta alla för " + items[0].centre_name);
      all.addEventListener("click", function () { confirmFacts({ centre: centre }, all); });
      h.appendChild(document.createTextNode(" "));
      h.appendChild(all);
      var list = sec.appendChild(el("ul", { class: "facts" }));
      items.forEach(function (f) {
        var li = list.appendChild(el("li", { class: "fact", "data-kind": f.kind, "data-key": f.key }));
        li.appendChild(el("strong", {}, f.title));
        li.appendChild(el("span", { class: "meta" }, " · " + f.why + (f.published ? " · publicerad " + f.published : "") +
          (f.confirmed ? " · bekräftad " + f.confirmed.date + " av " + f.confirmed.by : "")));
        var url = safeUrl(f.source);
        var p = li.appendChild(el("p", { class: "source" }));
        if (url) p.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
        else p.textContent = "Ingen källa angiven";
        if (f.confirmable === false) {
          li.appendChild(el("span", { class: "meta" }, "Kan inte bekräftas: ingen källa att kontrollera mot."));
          return;
        }
        var b = li.appendChild(el("button", { type: "button", class: "confirm-fact" }, "Bekräfta"));
        b.addEventListener("click", function () { confirmFacts({ centre: f.centre, kind: f.kind, key: f.key }, b); });
      });
    });
  }

  function loadStale() {
    return getJSON("/staff/api/stale")
      .then(function (b) { renderStale(b.facts || []); document.body.setAttribute("data-loaded-upkeep", "1"); })
      .catch(function (e) { upkeepStatus("Kunde inte hämta registret: " + e.message, true); });
  }

  function start() {
    var params = new URLSearchParams(window.location.search);
    var today = new Date();
    var from = new Date(today.getTime() - 29 * 86400000);
    $("since").value = params.get("since") || isoDay(from);
    $("until").value = params.get("until") || isoDay(today);
    $("period").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = "?since=" + encodeURIComponent($("since").value) + "&until=" + encodeURIComponent($("until").value);
      window.history.replaceState(null, "", "/staff" + q);
      load();
    });
    load();
    loadStale();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
