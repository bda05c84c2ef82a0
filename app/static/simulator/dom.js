// Small helpers shared by the simulator's scripts (window.Sim): building elements, WhatsApp markup, times.
(function () {
  "use strict";

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

  function pad(n) { return String(n).padStart(2, "0"); }

  // "14:05" for an epoch-ms time (the browser's time zone), as WhatsApp shows under a bubble.
  function clock(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // The day chip between bubbles: "Today", "Yesterday", else the date.
  function dayLabel(ms) {
    var d = new Date(ms);
    var today = new Date();
    var start = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
    if (ms >= start) return "Today";
    if (ms >= start - 86400000) return "Yesterday";
    return d.toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
  }

  function dayKey(ms) {
    var d = new Date(ms);
    return d.getFullYear() + "-" + d.getMonth() + "-" + d.getDate();
  }

  window.Sim = {
    el: el, formatText: formatText, normalisePhone: normalisePhone, clock: clock, dayLabel: dayLabel, dayKey: dayKey,
  };
})();
