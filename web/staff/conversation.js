// One conversation's transcript (conversation.html?sender=...), from /staff/api/conversation. Visitor and
// bot texts go on the page through textContent only.
(function () {
  "use strict";
  var KINDS = { registry: "svar ur registret", faq: "vanlig fråga", unanswered: "obesvarad", other: "" };
  var REASONS = { fallback: "förstod inte (Menade du …?)", declined: "nej till alla förslag",
                  unknown_place: "okänd ort", out_of_scope: "utanför ämnet", no_facts: "inga uppgifter" };
  var CHANNELS = { socketio: "webbchatt", rest: "REST", slack: "Slack" };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function when(iso) { return iso ? iso.slice(0, 19).replace("T", " ") : ""; }

  function rating(r) { return r === "up" ? "👍" : r === "down" ? "👎" : "?"; }

  function status(text, isError) {
    var s = document.getElementById("status");
    s.textContent = text;
    s.className = "status" + (isError ? " error" : "");
  }

  function render(conv) {
    var list = document.getElementById("transcript");
    conv.messages.forEach(function (m) {
      if (m.who === "session") {
        list.appendChild(el("li", { class: "msg session" }, "Ny session · " + when(m.time)));
        return;
      }
      var li = list.appendChild(el("li", { class: "msg " + m.who }));
      var head = li.appendChild(el("p", { class: "meta" }));
      if (m.who === "user") {
        head.textContent = "Besökare · " + when(m.time) + (m.channel ? " · " + (CHANNELS[m.channel] || m.channel) : "");
        li.appendChild(el("p", { class: "text visitor-text" }, m.text));
      } else if (m.who === "feedback") {
        li.setAttribute("data-rating", m.rating || "");
        head.textContent = "Betyg · " + when(m.time);
        li.appendChild(el("p", { class: "text" }, "Besökaren gav " + rating(m.rating) + " på svaret"));
        if (m.comment) {
          var c = li.appendChild(el("p", { class: "text" }));
          c.appendChild(el("strong", {}, "Kommentar: "));
          c.appendChild(el("span", { class: "visitor-text comment" }, m.comment));
        }
      } else {
        if (m.answer_id && /^[0-9a-f]+$/.test(m.answer_id)) li.id = "a-" + m.answer_id;
        var kind = KINDS[m.kind] || "";
        if (m.kind === "unanswered" && m.reason) kind += ": " + (REASONS[m.reason] || m.reason);
        head.textContent = "Boten · " + when(m.time) + (kind ? " · " + kind : "");
        li.appendChild(el("p", { class: "text" }, m.text));
        if (m.buttons && m.buttons.length) li.appendChild(el("p", { class: "buttons" }, "Knappar: " + m.buttons.join(" · ")));
        if (m.feedback) {
          li.classList.add("rated", "rated-" + m.feedback.rating);
          var f = li.appendChild(el("p", { class: "feedback-mark" }, "Betyg: " + rating(m.feedback.rating)));
          if (m.feedback.comment) {
            f.appendChild(document.createTextNode(" – "));
            f.appendChild(el("span", { class: "visitor-text comment" }, m.feedback.comment));
          }
        }
      }
    });
    if (window.location.hash) {
      var target = document.getElementById(window.location.hash.slice(1));
      if (target) { target.classList.add("highlight"); target.scrollIntoView({ block: "center" }); }
    }
  }

  function start() {
    var sender = new URLSearchParams(window.location.search).get("sender") || "";
    document.getElementById("sender").textContent = sender;
    if (!sender) { status("Inget samtal angivet.", true); return; }
    status("Hämtar …");
    fetch("/staff/api/conversation?sender=" + encodeURIComponent(sender), { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/staff/login"); throw new Error("inte inloggad"); }
        return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || "fel " + r.status); return b; });
      })
      .then(function (conv) {
        render(conv);
        status(conv.messages.length + " händelser.");
        document.body.setAttribute("data-loaded", "conversation");
      })
      .catch(function (e) { status("Kunde inte hämta samtalet: " + e.message, true); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
