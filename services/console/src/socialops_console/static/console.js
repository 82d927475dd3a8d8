// The console's only script: parts of a page that update themselves, told to screen readers too.
// Pages work without it (a reload shows the same); nothing here is needed to read or to act.
(function () {
  "use strict";
  var announcer = function (text) {
    var region = document.getElementById("meddelanden");
    if (!region) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  };

  // <div data-refresh="/path"> is replaced by what /path answers every few seconds, until it stops
  // asking (the answer has no data-refresh of its own and a final data-status).
  var refresh = function (element) {
    var url = element.getAttribute("data-refresh");
    var last = element.querySelector("[data-status]");
    var lastStatus = last ? last.getAttribute("data-status") : null;
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { window.setTimeout(tick, 5000); return; }
          element.innerHTML = html;
          var state = element.querySelector("[data-status]");
          var status = state ? state.getAttribute("data-status") : null;
          if (status !== lastStatus) {
            var said = element.querySelector("[data-announce]");
            if (said) { announcer(said.textContent.trim()); }
            lastStatus = status;
          }
          if (status === "pending") { window.setTimeout(tick, 2000); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    };
    window.setTimeout(tick, 2000);
  };

  // One-key shortcuts (Granskning): an element with data-key="b" is clicked (or, with data-focus, the
  // element named there gets the focus) when that key is pressed outside a text field. They can be turned
  // off with the checkbox #kortkommandon (WCAG 2.1.4); the choice is remembered in this browser.
  var shortcuts = function () {
    var keyed = document.querySelectorAll("[data-key]");
    if (!keyed.length) { return; }
    var toggle = document.getElementById("kortkommandon");
    if (toggle) {
      toggle.checked = window.localStorage.getItem("socialops.shortcuts") !== "off";
      toggle.addEventListener("change", function () {
        window.localStorage.setItem("socialops.shortcuts", toggle.checked ? "on" : "off");
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (toggle ? !toggle.checked : window.localStorage.getItem("socialops.shortcuts") === "off") { return; }
      var target = event.target;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
      var match = Array.prototype.find.call(keyed, function (el) { return el.getAttribute("data-key") === event.key; });
      if (!match) { return; }
      event.preventDefault();
      var focus = match.getAttribute("data-focus");
      if (focus) { document.querySelector(focus).focus(); } else { match.click(); }
    });
  };

  // <div data-poll="/path" data-poll-seconds="5"> is replaced by what /path answers, for as long as the
  // page is open; when its content changes (the data-signature of its first child), its data-summary is
  // read out by screen readers: "Inkorgen uppdaterad: 3 ärenden".
  var poll = function (element) {
    var url = element.getAttribute("data-poll");
    var every = (parseInt(element.getAttribute("data-poll-seconds"), 10) || 10) * 1000;
    var signature = function (root) {
      var first = root.querySelector("[data-signature]");
      return first ? first.getAttribute("data-signature") : "";
    };
    var last = signature(element);
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null) {
            var holder = document.createElement("div");
            holder.innerHTML = html;
            var now = signature(holder);
            if (now !== last) {
              var focused = document.activeElement && element.contains(document.activeElement);
              element.innerHTML = html;
              last = now;
              var summary = element.querySelector("[data-summary]");
              if (summary) { announcer(summary.getAttribute("data-summary")); }
              if (focused) { element.focus(); }
            }
          }
          window.setTimeout(tick, every);
        })
        .catch(function () { window.setTimeout(tick, every * 2); });
    };
    window.setTimeout(tick, every);
  };

  document.addEventListener("DOMContentLoaded", function () {
    shortcuts();
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
    Array.prototype.forEach.call(document.querySelectorAll("[data-refresh]"), refresh);
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
}());
