// The composer's 📎 (Sim.attach): send a photo, a location, a voice note or a contact card, shaped by the server as
// Meta's webhook would (media as an id and a sha256 only: nothing is uploaded in development).
(function () {
  "use strict";

  var el = Sim.el;
  var HARARE = { latitude: -17.8292, longitude: 31.0522, name: "Harare Gardens", address: "Park Lane, Harare" };

  function choice(testid, icon, title, onClick) {
    var row = el("button", { type: "button", class: "list-row attach-choice", "data-testid": testid }, [
      el("span", { class: "attach-icon", text: icon }),
      el("span", { class: "row-text" }, [el("span", { class: "row-title", text: title })]),
    ]);
    row.addEventListener("click", onClick);
    return row;
  }

  function field(name, label, value, attrs) {
    var input = el("input", Object.assign({ name: name, "data-testid": "field-" + name, value: value }, attrs || {}));
    return el("label", { class: "field" }, [el("span", { text: label }), input]);
  }

  function form(testid, fields, submitText, onSubmit) {
    var node = el("form", { class: "attach-form", "data-testid": testid, autocomplete: "off" },
      fields.concat([el("button", { type: "submit", "data-testid": "attach-send", text: submitText })]));
    node.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {};
      Array.prototype.forEach.call(node.elements, function (input) { if (input.name) values[input.name] = input.value.trim(); });
      onSubmit(values);
    });
    return node;
  }

  // The checksum Meta sends with a media message: base64 of the file's SHA-256 (left to the server where the page is
  // not a secure context and has no crypto.subtle).
  async function sha256(file) {
    if (!window.crypto || !crypto.subtle) return null;
    var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    return btoa(String.fromCharCode.apply(null, digest));
  }

  function photo(pane) {
    var picker = el("input", { type: "file", accept: "image/*", class: "file-input", "data-testid": "photo-file" });
    picker.addEventListener("change", async function () {
      var file = picker.files && picker.files[0];
      if (!file) return;
      var url = URL.createObjectURL(file);
      var hash = await sha256(file);
      var mime = /^image\/[A-Za-z0-9.+\-]+$/.test(file.type) ? file.type : "image/jpeg";
      pane.openSheet("Send photo", [
        el("img", { class: "photo preview", src: url, alt: "Photo to send" }),
        form("photo-form", [field("caption", "Caption", "", { maxlength: "1024", placeholder: "Add a caption" })],
          "Send", function (values) {
            var media = { mime_type: mime };
            if (hash) media.sha256 = hash;
            if (values.caption) media.caption = values.caption;
            pane.closeSheet();
            pane.send({ kind: "image", media: media }, { imageUrl: url });
          }),
      ]);
    });
    pane.openSheet("Photo", [
      el("label", { class: "list-row file-row" }, [el("span", { text: "Choose a picture…" }), picker]),
    ]);
  }

  function location(pane) {
    pane.openSheet("Send location", [form("location-form", [
      field("name", "Place", HARARE.name, { maxlength: "100" }),
      field("address", "Address", HARARE.address, { maxlength: "200" }),
      field("latitude", "Latitude", String(HARARE.latitude), { inputmode: "decimal" }),
      field("longitude", "Longitude", String(HARARE.longitude), { inputmode: "decimal" }),
    ], "Send location", function (values) {
      var where = { latitude: Number(values.latitude), longitude: Number(values.longitude) };
      if (!isFinite(where.latitude) || !isFinite(where.longitude) || !values.latitude || !values.longitude) return;
      if (values.name) where.name = values.name;
      if (values.address) where.address = values.address;
      pane.closeSheet();
      pane.send({ kind: "location", location: where });
    })]);
  }

  function contact(pane) {
    var demo = window.simulator ? window.simulator.demo : {};
    var picks = Object.keys(demo).filter(function (phone) { return phone !== pane.phone; }).map(function (phone) {
      return choice("contact-" + phone, "👤", demo[phone] + " · +" + phone, function () {
        pane.closeSheet();
        pane.send({ kind: "contacts", contact: { name: demo[phone], phone: "+" + phone } });
      });
    });
    pane.openSheet("Share contact", picks.concat([
      el("div", { class: "section-title", text: "Another contact" }),
      form("contact-form", [
        field("name", "Name", "", { maxlength: "100", placeholder: "Tariro Moyo" }),
        field("phone", "Phone", "", { maxlength: "30", inputmode: "tel", placeholder: "+263 77 123 4567" }),
      ], "Share contact", function (values) {
        if (!values.name || !values.phone) return;
        pane.closeSheet();
        pane.send({ kind: "contacts", contact: { name: values.name, phone: values.phone } });
      }),
    ]));
  }

  function open(pane) {
    pane.openSheet("Send", [
      choice("attach-photo", "📷", "Photo", function () { photo(pane); }),
      choice("attach-location", "📍", "Location", function () { location(pane); }),
      choice("attach-voice", "🎤", "Voice note", function () {
        pane.closeSheet();
        pane.send({ kind: "audio" });
      }),
      choice("attach-contact", "👤", "Contact", function () { contact(pane); }),
    ]);
  }

  Sim.attach = { open: open };
})();
