// Drawing bubbles (Sim.bubbles): the bot's messages as WhatsApp shows them, templates included, and the person's own
// (typed text, taps, a photo, a place, a voice note, a contact card), each with the time it was really sent.
(function () {
  "use strict";

  var el = Sim.el;
  var templates = {};  // the approved templates' texts, from GET /simulator/templates

  function loadTemplates() {
    return fetch("/simulator/templates", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (t) { templates = t || {}; })
      .catch(function () { templates = {}; });
  }

  function meta(at, ticks) {
    var node = el("span", { class: "meta", "data-testid": "time", "data-at": String(at), text: Sim.clock(at) });
    if (ticks) node.appendChild(el("span", { class: "ticks", text: ticks }));
    return node;
  }

  function textPart(body) { return el("div", { class: "text", html: Sim.formatText(body) }); }

  function replyButtons(buttons, onTap) {
    var row = el("div", { class: "reply-buttons" });
    buttons.forEach(function (b) {
      var button = el("button", {
        type: "button", class: "reply-button", "data-testid": "reply-button", "data-reply-id": b.id, text: b.title,
      });
      button.addEventListener("click", function () { onTap(b); });
      row.appendChild(button);
    });
    return row;
  }

  function botBubble(pane, message, at, parts) {
    var bubble = el("div", { class: "bubble bot", "data-testid": "bubble-bot", "data-kind": message.kind });
    if (message.header) bubble.appendChild(el("div", { class: "header", text: message.header }));
    parts.forEach(function (part) { bubble.appendChild(part); });
    if (message.footer) bubble.appendChild(el("div", { class: "footer", text: message.footer }));
    bubble.insertBefore(meta(at, null), bubble.querySelector(".list-open"));
    var group = el("div", { class: "group bot" }, [bubble]);
    pane.append(group, at);
    return { bubble: bubble, group: group };
  }

  // A template as the person reads it: the approved body filled with the body parameters, and its quick-reply
  // buttons; a tap sends the payload given at send time (a button component), else the title, as Meta does.
  function template(pane, item, at) {
    var request = (item.request && item.request.template) || {};
    var name = request.name || item.message.name;
    var components = request.components || [];
    var params = [];
    var payloads = {};
    components.forEach(function (c) {
      if (c.type === "body") (c.parameters || []).forEach(function (p) { params.push(p.text); });
      if (c.type === "button" && c.sub_type === "quick_reply") {
        var payload = (c.parameters || []).filter(function (p) { return p.type === "payload"; })[0];
        if (payload) payloads[String(c.index)] = payload.payload;
      }
    });
    if (!components.length && item.message.body_parameters) params = item.message.body_parameters.slice();
    var approved = templates[name];
    if (!approved) {
      var plain = ["template " + name].concat(params).join("\n");
      var unknown = botBubble(pane, item.message, at, [el("div", { class: "text", text: plain })]);
      unknown.bubble.setAttribute("data-template", name);
      return;
    }
    var body = approved.body.replace(/\{\{(\d+)\}\}/g, function (all, n) {
      var value = params[Number(n) - 1];
      return value === undefined ? all : value;
    });
    var made = botBubble(pane, item.message, at, [textPart(body)]);
    made.bubble.setAttribute("data-template", name);
    var buttons = approved.quick_replies.map(function (title, index) {
      return { id: payloads[String(index)] || title, title: title };
    });
    if (!buttons.length) return;
    made.group.appendChild(replyButtons(buttons, function (b) {
      var send = { kind: "button", reply_id: b.id, reply_title: b.title };
      if (item.wamid && /^wamid\./.test(item.wamid)) send.context_id = item.wamid;
      pane.send(send);
    }));
  }

  function bot(pane, item) {
    var message = item.message;
    var at = item.at || Date.now();
    switch (message.kind) {
      case "text":
        botBubble(pane, message, at, [textPart(message.body)]);
        break;
      case "buttons": {
        var made = botBubble(pane, message, at, [textPart(message.body)]);
        made.group.appendChild(replyButtons(message.buttons, function (b) {
          pane.send({ kind: "button_reply", reply_id: b.id, reply_title: b.title });
        }));
        break;
      }
      case "list": {
        var opener = el("button", { type: "button", class: "list-open", "data-testid": "list-open", text: "☰ " + message.button });
        opener.addEventListener("click", function () { pane.openList(message); });
        var list = botBubble(pane, message, at, [textPart(message.body), opener]);
        list.bubble.setAttribute("data-list-button", message.button);
        break;
      }
      case "template":
        template(pane, item, at);
        break;
      case "request_contact_info": {
        // WhatsApp's own *Share phone number* button, for people whose number is hidden; the simulator's people
        // all have a visible number, so it is shown as the phone shows it, without a tap.
        var asked = botBubble(pane, message, at, [textPart(message.body)]);
        asked.group.appendChild(el("div", { class: "share-phone", text: "📞 Share phone number" }));
        break;
      }
      default:
        pane.note("Unsupported message kind: " + message.kind);
    }
  }

  // The person's bubble: its parts for each kind of message, as the phone shows what it sent.
  function mine(send, local) {
    switch (send.kind) {
      case "image": {
        var caption = send.media && send.media.caption;
        var picture = local && local.imageUrl
          ? el("img", { class: "photo", src: local.imageUrl, alt: "Photo" })
          : el("div", { class: "photo placeholder", text: "📷 Photo" });
        return [picture, caption ? el("span", { class: "text", text: caption }) : null];
      }
      case "audio":
        return [el("span", { class: "voice", text: "🎤 Voice note" }, [el("span", { class: "wave", "aria-hidden": "true" })])];
      case "location": {
        var where = send.location;
        return [el("div", { class: "place" }, [
          el("span", { class: "place-pin", text: "📍" }),
          el("span", { class: "place-text" }, [
            el("span", { class: "place-name", text: where.name || "Location" }),
            where.address ? el("span", { class: "place-address", text: where.address }) : null,
            el("span", { class: "place-coords", text: where.latitude + ", " + where.longitude }),
          ]),
        ])];
      }
      case "contacts":
        return [el("div", { class: "card" }, [
          el("span", { class: "card-avatar", text: "👤" }),
          el("span", { class: "card-text" }, [
            el("span", { class: "card-name", text: send.contact.name }),
            el("span", { class: "card-phone", text: send.contact.phone }),
          ]),
        ])];
      case "text":
        return [el("span", { class: "text", text: send.text })];
      default:  // a tap: the title the person saw
        return [el("span", { class: "text", text: send.reply_title || send.reply_id }),
          send.reply_description ? el("span", { class: "picked", text: send.reply_description }) : null];
    }
  }

  function me(pane, send, at, local) {
    var bubble = el("div", { class: "bubble me", "data-testid": "bubble-me", "data-kind": send.kind },
      mine(send, local).concat([meta(at, "✓")]));
    pane.append(el("div", { class: "group me" }, [bubble]), at);
    return bubble;
  }

  Sim.bubbles = { loadTemplates: loadTemplates, bot: bot, me: me };
})();
