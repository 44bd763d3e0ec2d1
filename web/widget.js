/*
 * Filmregionerna chat widget: talks to Rasa's socket.io channel (user_uttered / bot_uttered,
 * session_persistence: true). One-line embed:
 *
 *   <script src="https://…/widget.js" data-rasa-url="https://bot.example.se" defer></script>
 *
 * Options (data-* attributes on the script tag, or window.FILMBOT_CONFIG = {rasaUrl, ...}):
 *   data-rasa-url     base URL of the Rasa server (default: the page's origin)
 *   data-socket-path  socket.io path on that server (default: /socket.io/)
 *   data-mode         "floating" (launcher button, default) or "inline" (fills data-target)
 *   data-target       CSS selector of the element the inline chat is placed in
 *
 * widget.css and socket.io.min.js are loaded from the folder widget.js comes from (unless window.io
 * already exists). Everything the bot or the visitor wrote is rendered with textContent / DOM nodes,
 * never as HTML.
 *
 * Feedback: a bot message whose metadata.filmbot.answer_id is set (registry and FAQ answers, see
 * bot/feedback.py) gets a 👍 / 👎 pair of buttons (aria-pressed). One rating per answer: after a click
 * both are disabled and the chosen one stays pressed. After 👎 a one-line field asks what was missing.
 * Ratings are sent as the user message /feedback{"answer_id","rating"[,"comment"]} (not shown as a
 * visitor bubble); the bot's thanks is shown like any answer. Labels follow metadata.filmbot_lang.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var cfg = Object.assign({}, window.FILMBOT_CONFIG || {});
  var ds = (script && script.dataset) || {};
  var RASA_URL = (ds.rasaUrl || cfg.rasaUrl || window.location.origin).replace(/\/+$/, "");
  var SOCKET_PATH = ds.socketPath || cfg.socketPath || "/socket.io/";
  var MODE = ds.mode || cfg.mode || "floating";
  var TARGET = ds.target || cfg.target || null;
  var BASE = script && script.src ? new URL(".", script.src).href : new URL(".", window.location.href).href;
  var STORAGE_KEY = "filmbot:" + RASA_URL;
  var MAX_HISTORY = 200;
  var REPLY_TIMEOUT_MS = 30000;

  var T = {
    title: "Fråga Filmregionerna",
    launcher: "Frågor om film i din region? Chatta med oss",
    close: "Stäng chatten",
    restart: "Börja om",
    restartLabel: "Börja om: starta ett nytt samtal",
    notice: "Samtalen sparas i upp till 30 dagar för att förbättra tjänsten. " +
      "Skriv inte personuppgifter som personnummer, adress eller telefonnummer.",
    noticeOk: "Jag förstår",
    unreachable: "Chatten går inte att nå just nu. Kontrollera din uppkoppling och försök igen om en stund.",
    noReply: "Inget svar från chatten. Försök igen om en stund.",
    retry: "Försök igen",
    connecting: "Ansluter…",
    typing: "Boten skriver…",
    inputLabel: "Skriv din fråga",
    placeholder: "Skriv din fråga…",
    send: "Skicka",
    you: "Du",
    bot: "Boten",
    messages: "Samtal med Filmregionernas chattbot",
  };

  // Feedback labels per conversation language (metadata.filmbot_lang of the rated answer).
  var FEEDBACK = {
    sv: { group: "Hjälpte svaret?", up: "Bra svar", down: "Dåligt svar", missing: "Vad saknades?",
          send: "Skicka", placeholder: "Skriv kort vad som saknades…", thanks: "Kommentaren är skickad." },
    en: { group: "Did this answer help?", up: "Good answer", down: "Bad answer", missing: "What was missing?",
          send: "Send", placeholder: "Say briefly what was missing…", thanks: "Your comment has been sent." },
  };
  var ANSWER_ID_RE = /^[0-9a-f]{12}$/;
  var MAX_COMMENT = 300;

  // --- state in sessionStorage: survives a reload, not a closed tab -------------------------------

  function newSessionId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadState() {
    try {
      var s = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      if (s && typeof s.sessionId === "string" && Array.isArray(s.history)) return s;
    } catch (e) { /* storage blocked or corrupt: start fresh */ }
    return { sessionId: newSessionId(), history: [], greeted: false, noticeSeen: false, open: false };
  }

  var state = loadState();

  function saveState() {
    if (state.history.length > MAX_HISTORY) state.history = state.history.slice(-MAX_HISTORY);
    try { window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (e) { /* ignore */ }
  }

  // --- small DOM helpers --------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (attrs[k] === true) node.setAttribute(k, "");
      else if (attrs[k] !== false && attrs[k] != null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  // URLs and e-mail addresses in bot text become links; everything else stays a text node.
  var LINK_RE = /(https?:\/\/[^\s<>"']+)|([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;
  var TRAILING_PUNCT_RE = /[.,;:!?)\]}»”'"]+$/;

  function safeHttpUrl(raw) {
    try {
      var u = new URL(raw);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) { return null; }
  }

  function linkify(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    var m;
    LINK_RE.lastIndex = 0;
    while ((m = LINK_RE.exec(text)) !== null) {
      var match = m[0];
      var trail = m[1] ? (match.match(TRAILING_PUNCT_RE) || [""])[0] : "";
      var visible = match.slice(0, match.length - trail.length);
      var href = m[1] ? safeHttpUrl(visible) : "mailto:" + visible;
      if (!href) continue;
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", { href: href, text: visible });
      if (m[1]) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
      frag.appendChild(a);
      last = m.index + visible.length;
      LINK_RE.lastIndex = last;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // --- build the UI --------------------------------------------------------------------------------

  function ensureCss() {
    if (document.querySelector("link[data-filmbot-css]")) return;
    document.head.appendChild(el("link", { rel: "stylesheet", href: BASE + "widget.css", "data-filmbot-css": "" }));
  }

  var ui = {};

  function buildUi() {
    var inline = MODE === "inline";
    var root = el("div", { className: "fb-root " + (inline ? "fb-inline" : "fb-floating"), lang: "sv" });

    ui.restart = el("button", { type: "button", className: "fb-restart", text: T.restart, "aria-label": T.restartLabel });
    var headerChildren = [el("h2", { className: "fb-title", id: "fb-title", text: T.title }), ui.restart];
    if (!inline) {
      ui.close = el("button", { type: "button", className: "fb-close", "aria-label": T.close, text: "×" });
      headerChildren.push(ui.close);
    }

    ui.noticeOk = el("button", { type: "button", className: "fb-notice-ok", text: T.noticeOk });
    ui.notice = el("div", { className: "fb-notice", role: "note" }, [
      el("p", { text: T.notice }), ui.noticeOk,
    ]);

    ui.statusText = el("p", { className: "fb-status-text" });
    ui.retry = el("button", { type: "button", className: "fb-retry", text: T.retry });
    ui.status = el("div", { className: "fb-status", role: "alert", hidden: true }, [ui.statusText, ui.retry]);

    ui.messages = el("ol", { className: "fb-messages", "aria-live": "polite", "aria-relevant": "additions",
                             "aria-label": T.messages, tabindex: "-1" });
    ui.typing = el("div", { className: "fb-typing", role: "status", hidden: true }, [
      el("span", { className: "fb-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
      el("span", { className: "fb-sr", text: T.typing }),
    ]);

    ui.input = el("input", { type: "text", id: "fb-input", className: "fb-input", autocomplete: "off",
                             maxlength: "500", placeholder: T.placeholder });
    ui.form = el("form", { className: "fb-form" }, [
      el("label", { "for": "fb-input", className: "fb-sr", text: T.inputLabel }),
      ui.input,
      el("button", { type: "submit", className: "fb-send", text: T.send }),
    ]);

    ui.panel = el("section", { className: "fb-panel", id: "fb-panel", "aria-labelledby": "fb-title",
                               hidden: !inline }, [
      el("header", { className: "fb-header" }, headerChildren),
      ui.notice, ui.status, ui.messages, ui.typing, ui.form,
    ]);

    if (!inline) {
      ui.launcher = el("button", { type: "button", className: "fb-launcher", "aria-expanded": "false",
                                   "aria-controls": "fb-panel", text: T.launcher });
      root.appendChild(ui.launcher);
    }
    root.appendChild(ui.panel);
    ui.root = root;

    var host = inline && TARGET ? document.querySelector(TARGET) : null;
    (host || document.body).appendChild(root);

    ui.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = ui.input.value.trim();
      if (!text) return;
      ui.input.value = "";
      send(text, text);
    });
    ui.restart.addEventListener("click", restart);
    ui.retry.addEventListener("click", retry);
    ui.noticeOk.addEventListener("click", function () {
      state.noticeSeen = true;
      saveState();
      ui.notice.hidden = true;
      ui.input.focus();
    });
    if (!inline) {
      ui.launcher.addEventListener("click", function () { setOpen(ui.panel.hidden); });
      ui.close.addEventListener("click", function () { setOpen(false); });
      ui.panel.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") setOpen(false);
      });
    }
  }

  function setOpen(open, restoring) {
    state.open = open;
    saveState();
    if (MODE === "inline") return;
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.root.classList.toggle("fb-open", open);
    if (open) {
      connect();
      if (!restoring) ui.input.focus();
      scrollToEnd();
    } else {
      ui.launcher.focus();
    }
  }

  function scrollToEnd() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  // --- messages ------------------------------------------------------------------------------------

  function renderMessage(msg, buttonsActive) {
    var who = msg.from === "user" ? T.you : T.bot;
    var bubble = el("div", { className: "fb-bubble" });
    if (msg.text) {
      if (msg.from === "bot") bubble.appendChild(linkify(msg.text));
      else bubble.textContent = msg.text;
    }
    if (msg.image) {
      var src = safeHttpUrl(msg.image);
      if (src) bubble.appendChild(el("img", { src: src, alt: "", className: "fb-image" }));
    }
    var li = el("li", { className: "fb-msg fb-" + (msg.from === "user" ? "user" : "bot") }, [
      el("span", { className: "fb-sr", text: who + ": " }), bubble,
    ]);
    if (msg.buttons && msg.buttons.length) {
      var group = el("div", { className: "fb-buttons", role: "group", "aria-label": "Svarsalternativ" });
      msg.buttons.forEach(function (b) {
        var btn = el("button", { type: "button", className: "fb-button", text: b.title, disabled: !buttonsActive });
        btn.addEventListener("click", function () {
          send(b.payload, b.title);
          ui.input.focus();
        });
        group.appendChild(btn);
      });
      li.appendChild(group);
    }
    if (msg.from === "bot" && typeof msg.answerId === "string" && ANSWER_ID_RE.test(msg.answerId)) {
      li.appendChild(renderFeedback(msg));
    }
    ui.messages.appendChild(li);
  }

  // 👍 / 👎 under a rateable answer; `msg` is the history entry (its rating is saved with the history).
  function renderFeedback(msg) {
    var L = FEEDBACK[msg.lang === "en" ? "en" : "sv"];
    var box = el("div", { className: "fb-feedback", role: "group", "aria-label": L.group });
    var rates = [["up", "👍", L.up], ["down", "👎", L.down]].map(function (r) {
      var btn = el("button", { type: "button", className: "fb-rate fb-rate-" + r[0], "aria-label": r[2],
                               title: r[2], "aria-pressed": String(msg.rating === r[0]),
                               disabled: !!msg.rating, "data-rating": r[0], text: r[1] });
      box.appendChild(btn);
      return btn;
    });
    var comment = null;

    function showComment() {
      if (comment || msg.commented) return;
      var id = "fb-comment-" + msg.answerId;
      var input = el("input", { type: "text", id: id, className: "fb-comment-input", maxlength: String(MAX_COMMENT),
                                autocomplete: "off", placeholder: L.placeholder });
      comment = el("form", { className: "fb-comment" }, [
        el("label", { "for": id, className: "fb-comment-label", text: L.missing }),
        el("div", { className: "fb-comment-row" }, [
          input, el("button", { type: "submit", className: "fb-comment-send", text: L.send }),
        ]),
      ]);
      comment.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var text = input.value.replace(/\s+/g, " ").trim().slice(0, MAX_COMMENT);
        if (!text) { input.focus(); return; }
        msg.commented = true;
        saveState();
        sendFeedback({ answer_id: msg.answerId, rating: "down", comment: text });
        var done = el("p", { className: "fb-comment-done", role: "status", text: L.thanks });
        box.replaceChild(done, comment);
        comment = null;
        ui.input.focus();
      });
      box.appendChild(comment);
      return input;
    }

    rates.forEach(function (btn) {
      btn.addEventListener("click", function () {
        if (msg.rating) return;
        var rating = btn.getAttribute("data-rating");
        msg.rating = rating;
        saveState();
        rates.forEach(function (b) {
          b.disabled = true;
          b.setAttribute("aria-pressed", String(b === btn));
        });
        sendFeedback({ answer_id: msg.answerId, rating: rating });
        var field = rating === "down" ? showComment() : null;
        (field || ui.input).focus();
      });
    });
    if (msg.rating === "down" && !msg.commented) showComment();
    return box;
  }

  function renderHistory() {
    ui.messages.textContent = "";
    // Only the buttons after the visitor's last message are still clickable.
    var lastUser = -1;
    state.history.forEach(function (m, i) { if (m.from === "user") lastUser = i; });
    state.history.forEach(function (m, i) { renderMessage(m, i > lastUser); });
    scrollToEnd();
  }

  function addMessage(msg) {
    if (msg.from === "user") {
      Array.prototype.forEach.call(ui.messages.querySelectorAll(".fb-button"), function (b) { b.disabled = true; });
    }
    state.history.push(msg);
    saveState();
    renderMessage(msg, true);
    scrollToEnd();
  }

  var replyTimer = null;

  function showTyping(on) {
    ui.typing.hidden = !on;
    window.clearTimeout(replyTimer);
    if (on) {
      replyTimer = window.setTimeout(function () {
        ui.typing.hidden = true;
        showStatus(T.noReply, true);
      }, REPLY_TIMEOUT_MS);
      scrollToEnd();
    }
  }

  function showStatus(text, withRetry) {
    if (!text) { ui.status.hidden = true; return; }
    ui.statusText.textContent = text;
    ui.retry.hidden = !withRetry;
    ui.status.hidden = false;
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") return;
    var text = typeof data.text === "string" ? data.text : "";
    var raw = Array.isArray(data.quick_replies) ? data.quick_replies : (Array.isArray(data.buttons) ? data.buttons : []);
    var buttons = raw.filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    var att = data.attachment;
    var image = att && att.type === "image" && att.payload && typeof att.payload.src === "string" ? att.payload.src : null;
    if (!text && !buttons.length && !image) return;
    var meta = data.metadata && typeof data.metadata === "object" ? data.metadata : {};
    var tag = meta.filmbot && typeof meta.filmbot === "object" ? meta.filmbot : {};
    var answerId = typeof tag.answer_id === "string" && ANSWER_ID_RE.test(tag.answer_id) ? tag.answer_id : null;
    showTyping(false);
    showStatus(null);
    addMessage({ from: "bot", text: text, buttons: buttons, image: image, answerId: answerId,
                 lang: meta.filmbot_lang === "en" ? "en" : "sv", rating: null, commented: false });
  }

  // --- socket.io -----------------------------------------------------------------------------------

  var socket = null;
  var ready = false;      // session confirmed for state.sessionId
  var queue = [];         // messages typed before the session was confirmed

  function loadSocketIo(cb) {
    if (window.io) { cb(); return; }
    var s = el("script", { src: BASE + "socket.io.min.js" });
    s.onload = cb;
    s.onerror = function () { showStatus(T.unreachable, true); };
    document.head.appendChild(s);
  }

  function connect() {
    if (socket) {
      if (!socket.connected) socket.connect();
      return;
    }
    loadSocketIo(function () {
      if (socket) return;
      socket = window.io(RASA_URL, { path: SOCKET_PATH, reconnection: false, timeout: 10000 });
      socket.on("connect", function () {
        ready = false;
        socket.emit("session_request", { session_id: state.sessionId });
      });
      socket.on("session_confirm", function (confirmed) {
        var id = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
        if (id && id !== state.sessionId) return;  // an answer to an older request
        ready = true;
        ui.root.setAttribute("data-session-id", state.sessionId);
        showStatus(null);
        if (!state.greeted) {
          state.greeted = true;
          saveState();
          emit("/greet");
          showTyping(true);
        }
        var pending = queue;
        queue = [];
        pending.forEach(emit);
      });
      socket.on("bot_uttered", onBotMessage);
      socket.on("connect_error", function () {
        ready = false;
        showTyping(false);
        showStatus(T.unreachable, true);
      });
      socket.on("disconnect", function (reason) {
        ready = false;
        if (reason === "io client disconnect") return;
        showTyping(false);
        showStatus(T.unreachable, true);
      });
    });
  }

  function emit(payload) {
    socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
  }

  // payload goes to the bot, shown is what the visitor sees as their own message
  function send(payload, shown) {
    addMessage({ from: "user", text: shown });
    showTyping(true);
    if (ready && socket && socket.connected) {
      emit(payload);
    } else {
      queue.push(payload);
      connect();
    }
  }

  // A rating goes to the bot as a user message, without a visitor bubble and without disabling the
  // answer buttons of the conversation (the visitor has not answered anything).
  function sendFeedback(body) {
    var payload = "/feedback" + JSON.stringify(body);
    if (ready && socket && socket.connected) {
      emit(payload);
    } else {
      queue.push(payload);
      connect();
    }
  }

  function retry() {
    showStatus(T.connecting, false);
    if (socket) socket.disconnect();
    connect();
    ui.input.focus();
  }

  // "Börja om": a new session id, an empty history, a fresh socket (leaves the old room) and a new greeting.
  function restart() {
    state.sessionId = newSessionId();
    state.history = [];
    state.greeted = false;
    saveState();
    queue = [];
    ready = false;
    showTyping(false);
    renderHistory();
    ui.root.removeAttribute("data-session-id");
    if (socket) socket.disconnect();
    connect();
    ui.input.focus();
  }

  // --- start ---------------------------------------------------------------------------------------

  function init() {
    ensureCss();
    buildUi();
    ui.notice.hidden = !!state.noticeSeen;
    renderHistory();
    if (MODE === "inline") {
      connect();
      ui.input.focus();
    } else if (state.open) {
      setOpen(true, true);
    }
    window.filmbot = { restart: restart, open: function () { setOpen(true); } };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
