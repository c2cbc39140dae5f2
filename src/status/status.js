// wirefeed status page: optional enhancements. The page is complete
// without this script (server-rendered, UTC times, a <noscript> meta
// refresh); where scripts run, times are shown in the browser's own zone,
// relative times keep ticking, a box filters the feed table, and the page
// reloads every 15 s keeping the filter.
"use strict";

(function () {
  function span(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 86400) {
      var minutes = Math.floor((seconds % 3600) / 60);
      return Math.floor(seconds / 3600) + " h" + (minutes ? " " + minutes + " min" : "");
    }
    var hours = Math.floor((seconds % 86400) / 3600);
    return Math.floor(seconds / 86400) + " d" + (hours ? " " + hours + " h" : "");
  }

  function localTimes() {
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var at = new Date(times[i].getAttribute("datetime"));
      if (isNaN(at.getTime())) continue;
      times[i].title = times[i].textContent;
      times[i].textContent = at.toLocaleString();
    }
  }

  function tick() {
    var now = Date.now();
    var cells = document.querySelectorAll("td time[datetime]");
    for (var i = 0; i < cells.length; i++) {
      var relative = cells[i].parentNode.querySelector("small.relative");
      if (!relative) continue;
      var delta = (new Date(cells[i].getAttribute("datetime")).getTime() - now) / 1000;
      relative.textContent = delta > 0 ? "in " + span(delta) : span(-delta) + " ago";
    }
  }

  function filterBox() {
    var table = document.getElementById("feeds");
    if (!table) return;
    var input = document.createElement("input");
    input.type = "search";
    input.id = "filter";
    input.placeholder = "Filter feeds by id, provider, URL or outcome";
    input.setAttribute("aria-label", "Filter feeds");
    table.parentNode.insertBefore(input, table);
    function apply() {
      var wanted = input.value.toLowerCase();
      var rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        var text = rows[i].textContent.toLowerCase();
        rows[i].hidden = wanted !== "" && text.indexOf(wanted) < 0;
      }
      try {
        window.sessionStorage.setItem("wirefeed-filter", input.value);
      } catch (e) {
        // Storage may be off; the filter then lasts until the next reload.
      }
    }
    try {
      input.value = window.sessionStorage.getItem("wirefeed-filter") || "";
    } catch (e) {
      input.value = "";
    }
    input.addEventListener("input", apply);
    apply();
  }

  function start() {
    localTimes();
    tick();
    filterBox();
    window.setInterval(tick, 1000);
    window.setTimeout(function () {
      window.location.reload();
    }, 15000);
    document.documentElement.setAttribute("data-enhanced", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
