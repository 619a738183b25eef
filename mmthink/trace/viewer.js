(function () {
  "use strict";
  var data = { manifest: {}, steps: [] };
  var node = document.getElementById("trace-data");
  if (node) {
    try { data = JSON.parse(node.textContent || "{}"); } catch (e) { data = { manifest: {}, steps: [] }; }
  }
  var steps = Array.prototype.slice.call(document.querySelectorAll(".step"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-filter]"));
  var strips = Array.prototype.slice.call(document.querySelectorAll(".strip"));

  function applyFilter(kind) {
    steps.forEach(function (el) {
      el.hidden = !(kind === "all" || el.getAttribute("data-kind") === kind);
    });
    strips.forEach(function (s) {
      s.hidden = !s.querySelector(".step:not([hidden])");
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-filter") === kind ? "true" : "false");
    });
    document.body.setAttribute("data-filter", kind);
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var kind = b.getAttribute("data-filter") || "all";
      applyFilter(kind);
      if (history.replaceState) {
        try { history.replaceState(null, "", kind === "all" ? "#" : "#filter=" + kind); } catch (e) { /* file:// in some browsers */ }
      }
    });
  });

  var m = /filter=(\w+)/.exec(location.hash || "");
  if (m && buttons.some(function (b) { return b.getAttribute("data-filter") === m[1]; })) { applyFilter(m[1]); }

  var strip = document.getElementById("strip-toggle");
  if (strip) {
    strip.addEventListener("change", function () {
      document.body.classList.toggle("strip-on", strip.checked);
    });
  }

  var expand = document.getElementById("expand-all");
  if (expand) {
    expand.addEventListener("click", function () {
      var open = expand.getAttribute("data-open") !== "1";
      Array.prototype.forEach.call(document.querySelectorAll("details.metrics"), function (d) { d.open = open; });
      expand.setAttribute("data-open", open ? "1" : "0");
      expand.textContent = open ? "collapse details" : "expand details";
    });
  }

  // the raw step JSON is filled in only when asked for, from the embedded data
  var byIndex = {};
  (data.steps || []).forEach(function (s) { byIndex[String(s.index)] = s; });
  Array.prototype.forEach.call(document.querySelectorAll("details.raw"), function (d) {
    d.addEventListener("toggle", function () {
      var pre = d.querySelector("pre");
      if (!d.open || !pre || pre.textContent) { return; }
      var el = d.closest(".step");
      var s = el ? byIndex[el.getAttribute("data-index")] : null;
      pre.textContent = s ? JSON.stringify(s, null, 2) : "(not in the embedded data)";
    });
  });

  // one playing medium at a time: starting a clip pauses the others
  document.addEventListener("play", function (ev) {
    Array.prototype.forEach.call(document.querySelectorAll("audio, video"), function (el) {
      if (el !== ev.target && !el.paused) { el.pause(); }
    });
  }, true);
})();
