// VimbisoPay WhatsApp simulator: one pane per phone number. What you type or tap goes to POST /simulator/send
// (the server signs it and posts it to /webhook); what the bot answers is polled from GET /dev/outbox/{phone}.
(function () {
  "use strict";

  var POLL_MS = 700;
  var STORE_KEY = "vimbiso-simulator-panes";
  var DEMO = { "263770000001": "Demo Alice", "263770000002": "Demo Bob", "263770000003": "Demo Chipo" };
  var panes = new Map();
  var panesEl = document.getElementById("panes");
  var template = document.getElementById("pane-template");
  var errorEl = document.getElementById("toolbar-error");
  var phoneInput = document.getElementById("phone-input");

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else if (key === "html") node.innerHTML = props[key];
      else if (key === "class") node.className = props[key];
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // WhatsApp's markup: *bold*, _italic_, ~strike~, ```mono```; applied after escaping, so it cannot inject HTML.
  function formatText(s) {
    return escapeHtml(s)
      .replace(/```([\s\S]+?)```/g, "<code>$1</code>")
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,!?:;])/g, "$1<strong>$2</strong>")
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, "$1<em>$2</em>")
      .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,!?:;])/g, "$1<s>$2</s>");
  }

  function normalisePhone(raw) {
    var digits = String(raw || "").replace(/[\s+\-().]/g, "");
    return /^[0-9]{8,15}$/.test(digits) ? digits : null;
  }

  function clock() {
    var d = new Date();
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function showError(message) {
    errorEl.textContent = message || "";
    errorEl.hidden = !message;
  }

  function savePanes() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(Array.from(panes.keys()))); } catch (e) { /* private mode */ }
  }

  function Pane(phone, name) {
    this.phone = phone;
    this.name = name || DEMO[phone] || null;
    this.after = 0;
    this.first = true;
    this.polling = false;
    this.pollAgain = false;
    this.queue = Promise.resolve();
    this.pending = 0;
    this.readIds = new Set();

    var root = template.content.firstElementChild.cloneNode(true);
    root.setAttribute("data-testid", "pane-" + phone);
    root.setAttribute("data-phone", phone);
    this.root = root;
    this.sub = root.querySelector(".who-sub");
    this.log = root.querySelector(".messages");
    this.log.setAttribute("data-testid", "messages-" + phone);
    this.input = root.querySelector(".composer-input");
    this.input.setAttribute("data-testid", "composer-" + phone);
    root.querySelector(".send").setAttribute("data-testid", "send-" + phone);
    root.querySelector(".close").setAttribute("data-testid", "close-" + phone);
    this.backdrop = root.querySelector(".sheet-backdrop");
    this.backdrop.setAttribute("data-testid", "list-sheet-" + phone);
    this.setTyping(false);

    var self = this;
    root.querySelector(".composer").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value;
      if (!text.trim()) return;
      self.input.value = "";
      self.send({ kind: "text", text: text }, text, null);
    });
    root.querySelector(".close").addEventListener("click", function () { closePane(self.phone); });
    root.querySelector(".sheet-close").addEventListener("click", function () { self.closeSheet(); });
    this.backdrop.addEventListener("click", function (event) {
      if (event.target === self.backdrop) self.closeSheet();
    });
  }

  Pane.prototype.start = function () {
    var self = this;
    this.poll();
    this.timer = setInterval(function () { self.poll(); }, POLL_MS);
  };

  Pane.prototype.stop = function () { clearInterval(this.timer); };

  Pane.prototype.setTyping = function (typing) {
    var who = "+" + this.phone + (this.name ? " · " + this.name : "");
    this.sub.textContent = typing ? "typing…" : who;
  };

  Pane.prototype.scroll = function () { this.log.scrollTop = this.log.scrollHeight; };

  Pane.prototype.note = function (text, isError) {
    this.log.appendChild(el("div", { class: "note" + (isError ? " error" : ""), "data-testid": "note", text: text }));
    this.scroll();
  };

  Pane.prototype.poll = async function () {
    if (this.polling) { this.pollAgain = true; return; }
    this.polling = true;
    try {
      var response = await fetch("/dev/outbox/" + this.phone + "?after=" + this.after, { cache: "no-store" });
      if (!response.ok) throw new Error("outbox answered " + response.status);
      var page = await response.json();
      if (this.first && page.items.length) this.note("Earlier messages from the bot");
      this.first = false;
      var self = this;
      page.items.forEach(function (item) {
        if (item.seq <= self.after) return;
        self.after = item.seq;
        self.render(item.message);
      });
      showError("");
    } catch (err) {
      showError("Cannot reach the outbox: " + err.message);
    } finally {
      this.polling = false;
      if (this.pollAgain) { this.pollAgain = false; this.poll(); }
    }
  };

  // Show the person's bubble at once, then post in order: one pane's messages never overtake each other.
  Pane.prototype.send = function (payload, shown, detail) {
    var bubble = this.meBubble(shown, detail);
    var self = this;
    this.queue = this.queue.then(function () { return self.post(payload, bubble); });
    return this.queue;
  };

  Pane.prototype.post = async function (payload, bubble) {
    this.pending += 1;
    this.setTyping(true);
    var body = Object.assign({ phone: this.phone }, payload);
    if (this.name) body.name = this.name;
    try {
      var response = await fetch("/simulator/send", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      var result = await response.json().catch(function () { return null; });
      if (!response.ok) {
        var why = result && result.detail ? JSON.stringify(result.detail) : "status " + response.status;
        this.note("Not delivered: " + why, true);
      } else {
        bubble.setAttribute("data-wamid", result.wamid);
        var ticks = bubble.querySelector(".ticks");
        ticks.textContent = "✓✓";
        if (this.readIds.has(result.wamid)) ticks.classList.add("read");
      }
    } catch (err) {
      this.note("Not sent: " + err.message, true);
    } finally {
      this.pending -= 1;
      if (!this.pending) this.setTyping(false);
      await this.poll();
    }
  };

  Pane.prototype.meta = function (ticks) {
    var meta = el("span", { class: "meta", text: clock() });
    if (ticks) meta.appendChild(el("span", { class: "ticks", text: "✓" }));
    return meta;
  };

  Pane.prototype.meBubble = function (text, detail) {
    var bubble = el("div", { class: "bubble me", "data-testid": "bubble-me" }, [
      el("span", { class: "text", text: text }),
      detail ? el("span", { class: "picked", text: detail }) : null,
      this.meta(true),
    ]);
    this.log.appendChild(el("div", { class: "group me" }, [bubble]));
    this.scroll();
    return bubble;
  };

  Pane.prototype.botBubble = function (message, parts) {
    var bubble = el("div", { class: "bubble bot", "data-testid": "bubble-bot", "data-kind": message.kind });
    if (message.header) bubble.appendChild(el("div", { class: "header", text: message.header }));
    parts.forEach(function (part) { bubble.appendChild(part); });
    if (message.footer) bubble.appendChild(el("div", { class: "footer", text: message.footer }));
    bubble.insertBefore(this.meta(false), bubble.querySelector(".list-open"));
    var group = el("div", { class: "group bot" }, [bubble]);
    this.log.appendChild(group);
    return { bubble: bubble, group: group };
  };

  Pane.prototype.render = function (message) {
    var self = this;
    switch (message.kind) {
      case "text":
        this.botBubble(message, [el("div", { class: "text", html: formatText(message.body) })]);
        break;
      case "buttons": {
        var made = this.botBubble(message, [el("div", { class: "text", html: formatText(message.body) })]);
        var row = el("div", { class: "reply-buttons" });
        message.buttons.forEach(function (b) {
          var button = el("button", {
            type: "button", class: "reply-button", "data-testid": "reply-button", "data-reply-id": b.id, text: b.title,
          });
          button.addEventListener("click", function () {
            self.send({ kind: "button_reply", reply_id: b.id, reply_title: b.title }, b.title, null);
          });
          row.appendChild(button);
        });
        made.group.appendChild(row);
        break;
      }
      case "list": {
        var opener = el("button", { type: "button", class: "list-open", "data-testid": "list-open", text: "☰ " + message.button });
        opener.addEventListener("click", function () { self.openSheet(message); });
        var list = this.botBubble(message, [el("div", { class: "text", html: formatText(message.body) }), opener]);
        list.bubble.setAttribute("data-list-button", message.button);
        break;
      }
      case "template": {
        var params = el("ol", { class: "template-params" });
        (message.body_parameters || []).forEach(function (p) { params.appendChild(el("li", { text: p })); });
        var made2 = this.botBubble(message, [
          el("div", { class: "template-name", text: "Template · " + message.name + " (" + message.language + ")" }),
          params,
        ]);
        made2.bubble.classList.add("template");
        made2.bubble.setAttribute("data-template", message.name);
        break;
      }
      case "mark_read": {
        this.readIds.add(message.message_id);
        var mine = this.log.querySelector('[data-wamid="' + CSS.escape(message.message_id) + '"] .ticks');
        if (mine) mine.classList.add("read");
        return;
      }
      default:
        this.note("Unsupported message kind: " + message.kind);
    }
    this.scroll();
  };

  Pane.prototype.openSheet = function (message) {
    var self = this;
    var body = this.backdrop.querySelector(".sheet-body");
    this.backdrop.querySelector(".sheet-title").textContent = message.button;
    body.textContent = "";
    message.sections.forEach(function (section) {
      if (section.title) body.appendChild(el("div", { class: "section-title", text: section.title }));
      section.rows.forEach(function (r) {
        var row = el("button", { type: "button", class: "list-row", "data-testid": "list-row", "data-row-id": r.id }, [
          el("span", { class: "row-text" }, [
            el("span", { class: "row-title", text: r.title }),
            r.description ? el("span", { class: "row-description", text: r.description }) : null,
          ]),
          el("span", { class: "radio", "aria-hidden": "true" }),
        ]);
        row.addEventListener("click", function () {
          self.closeSheet();
          self.send({ kind: "list_reply", reply_id: r.id, reply_title: r.title }, r.title, r.description || null);
        });
        body.appendChild(row);
      });
    });
    this.backdrop.hidden = false;
  };

  Pane.prototype.closeSheet = function () { this.backdrop.hidden = true; };

  function openPane(phone, name) {
    showError("");
    var existing = panes.get(phone);
    if (existing) {
      existing.root.scrollIntoView({ behavior: "smooth", inline: "nearest" });
      existing.input.focus();
      return existing;
    }
    var empty = panesEl.querySelector(".empty");
    if (empty) empty.hidden = true;
    var pane = new Pane(phone, name);
    panes.set(phone, pane);
    panesEl.appendChild(pane.root);
    pane.start();
    pane.input.focus();
    savePanes();
    return pane;
  }

  function closePane(phone) {
    var pane = panes.get(phone);
    if (!pane) return;
    pane.stop();
    pane.root.remove();
    panes.delete(phone);
    if (!panes.size) panesEl.querySelector(".empty").hidden = false;
    savePanes();
  }

  function newNumber() {
    var digits = "";
    for (var i = 0; i < 5; i += 1) digits += String(Math.floor(Math.random() * 10));
    return "2637799" + digits;
  }

  document.getElementById("open-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var phone = normalisePhone(phoneInput.value);
    if (!phone) {
      showError("A phone number is 8 to 15 digits, country code first, e.g. 263771234567.");
      return;
    }
    openPane(phone, null);
  });

  document.querySelectorAll(".pick[data-phone]").forEach(function (button) {
    button.addEventListener("click", function () {
      openPane(button.getAttribute("data-phone"), button.getAttribute("data-name"));
    });
  });

  document.querySelector('[data-testid="new-number"]').addEventListener("click", function () {
    var phone = newNumber();
    phoneInput.value = phone;
    openPane(phone, null);
  });

  try {
    (JSON.parse(localStorage.getItem(STORE_KEY) || "[]") || []).forEach(function (phone) {
      if (normalisePhone(phone)) openPane(phone, null);
    });
  } catch (e) { /* nothing saved */ }

  window.simulator = { openPane: openPane, closePane: closePane, panes: panes };
})();
