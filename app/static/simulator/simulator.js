// VimbisoPay WhatsApp simulator: one pane per phone number. What the person does goes to POST /simulator/send (the
// server signs it and posts it to /webhook); the conversation (both sides, real times) comes from
// GET /simulator/history/{phone}, loaded whole when a pane opens and then polled for the bot's new messages.
(function () {
  "use strict";

  var el = Sim.el;
  var POLL_MS = 700;
  var STORE_KEY = "vimbiso-simulator-panes";
  var DEMO = { "263770000001": "Demo Alice", "263770000002": "Demo Bob", "263770000003": "Demo Chipo" };
  var panes = new Map();
  var panesEl = document.getElementById("panes");
  var paneTemplate = document.getElementById("pane-template");
  var errorEl = document.getElementById("toolbar-error");
  var phoneInput = document.getElementById("phone-input");
  var ready = Sim.bubbles.loadTemplates();

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
    this.loaded = false;
    this.polling = false;
    this.pollAgain = false;
    this.queue = Promise.resolve();
    this.pending = 0;
    this.lastDay = null;
    this.mine = new Map();  // wamid → the person's bubble, for its ticks

    var root = paneTemplate.content.firstElementChild.cloneNode(true);
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
    root.querySelector(".attach").setAttribute("data-testid", "attach-" + phone);
    this.backdrop = root.querySelector(".sheet-backdrop");
    this.backdrop.setAttribute("data-testid", "sheet-" + phone);
    this.setTyping(false);

    var self = this;
    root.querySelector(".composer").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value;
      if (!text.trim()) return;
      self.input.value = "";
      self.send({ kind: "text", text: text });
    });
    root.querySelector(".attach").addEventListener("click", function () { Sim.attach.open(self); });
    root.querySelector(".close").addEventListener("click", function () { closePane(self.phone); });
    root.querySelector(".sheet-close").addEventListener("click", function () { self.closeSheet(); });
    this.backdrop.addEventListener("click", function (event) {
      if (event.target === self.backdrop) self.closeSheet();
    });
  }

  Pane.prototype.start = function () {
    var self = this;
    ready.then(function () { self.poll(); });
    this.timer = setInterval(function () { self.poll(); }, POLL_MS);
  };

  Pane.prototype.stop = function () { clearInterval(this.timer); };

  Pane.prototype.setTyping = function (typing) {
    var who = "+" + this.phone + (this.name ? " · " + this.name : "");
    this.sub.textContent = typing ? "typing…" : who;
  };

  Pane.prototype.scroll = function () { this.log.scrollTop = this.log.scrollHeight; };

  // Every bubble goes through here: a day chip first when the day changes, as WhatsApp shows them.
  Pane.prototype.append = function (node, at) {
    var day = Sim.dayKey(at);
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.log.appendChild(el("div", { class: "day", "data-testid": "day", text: Sim.dayLabel(at) }));
    }
    this.log.appendChild(node);
    this.scroll();
  };

  Pane.prototype.note = function (text, isError) {
    this.log.appendChild(el("div", { class: "note" + (isError ? " error" : ""), "data-testid": "note", text: text }));
    this.scroll();
  };

  Pane.prototype.ticks = function (wamid, status, read) {
    var bubble = this.mine.get(wamid);
    if (!bubble) return;
    var ticks = bubble.querySelector(".ticks");
    if (status !== undefined) {
      ticks.textContent = status === 200 ? "✓✓" : "!";
      if (status !== 200) bubble.classList.add("failed");
    }
    if (read) ticks.classList.add("read");
  };

  Pane.prototype.poll = async function () {
    if (this.polling) { this.pollAgain = true; return; }
    this.polling = true;
    try {
      var url = "/simulator/history/" + this.phone + "?after=" + this.after;
      var response = await fetch(url, { cache: "no-store" });
      if (!response.ok) throw new Error("history answered " + response.status);
      var page = await response.json();
      var self = this;
      page.items.forEach(function (item) {
        if (item.side === "me") {
          if (item.wamid && self.mine.has(item.wamid)) return;
          var bubble = Sim.bubbles.me(self, item.send || {}, item.at, null);
          if (item.wamid) { bubble.setAttribute("data-wamid", item.wamid); self.mine.set(item.wamid, bubble); }
          self.ticks(item.wamid, item.status, false);
          return;
        }
        if (item.seq <= self.after) return;
        self.after = item.seq;
        Sim.bubbles.bot(self, item);
      });
      this.after = Math.max(this.after, page.last_seq);
      this.loaded = true;
      page.read.forEach(function (wamid) { self.ticks(wamid, undefined, true); });
      showError("");
    } catch (err) {
      showError("Cannot reach the simulator history: " + err.message);
    } finally {
      this.polling = false;
      if (this.pollAgain) { this.pollAgain = false; this.poll(); }
    }
  };

  // Show the person's bubble at once, then post in order: one pane's messages never overtake each other.
  Pane.prototype.send = function (payload, local) {
    var bubble = Sim.bubbles.me(this, payload, Date.now(), local || null);
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
      if (result && result.wamid) {
        bubble.setAttribute("data-wamid", result.wamid);
        this.mine.set(result.wamid, bubble);
        var time = bubble.querySelector(".meta");
        time.firstChild.textContent = Sim.clock(result.at);
        time.setAttribute("data-at", String(result.at));
        this.ticks(result.wamid, result.webhook_status, false);
      }
      if (!response.ok) {
        var why = result && result.detail ? JSON.stringify(result.detail) : "status " + response.status;
        bubble.classList.add("failed");
        bubble.querySelector(".ticks").textContent = "!";
        this.note("Not delivered: " + why, true);
      }
    } catch (err) {
      this.note("Not sent: " + err.message, true);
    } finally {
      this.pending -= 1;
      if (!this.pending) this.setTyping(false);
      await this.poll();
    }
  };

  // The bottom sheet, for a list's rows and for the attachment choices.
  Pane.prototype.openSheet = function (title, nodes) {
    var body = this.backdrop.querySelector(".sheet-body");
    this.backdrop.querySelector(".sheet-title").textContent = title;
    body.textContent = "";
    nodes.forEach(function (node) { body.appendChild(node); });
    this.backdrop.hidden = false;
  };

  Pane.prototype.closeSheet = function () { this.backdrop.hidden = true; };

  Pane.prototype.openList = function (message) {
    var self = this;
    var nodes = [];
    message.sections.forEach(function (section) {
      if (section.title) nodes.push(el("div", { class: "section-title", text: section.title }));
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
          var tap = { kind: "list_reply", reply_id: r.id, reply_title: r.title };
          if (r.description) tap.reply_description = r.description;
          self.send(tap);
        });
        nodes.push(row);
      });
    });
    this.openSheet(message.button, nodes);
  };

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
    var phone = Sim.normalisePhone(phoneInput.value);
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
      if (Sim.normalisePhone(phone)) openPane(phone, null);
    });
  } catch (e) { /* nothing saved */ }

  window.simulator = { openPane: openPane, closePane: closePane, panes: panes, demo: DEMO };
})();
