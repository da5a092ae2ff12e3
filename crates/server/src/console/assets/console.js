// The console's one script: progressive enhancement only; every page works
// without it. A region marked data-live="SECONDS" is fetched again every
// SECONDS and replaced when its content changed, unless the person is
// typing in one of its forms. Nothing is loaded from elsewhere.
(function () {
  "use strict";
  var region = document.querySelector("[data-live]");
  if (!region || !window.fetch || !window.DOMParser) return;
  var seconds = Math.max(2, parseInt(region.getAttribute("data-live"), 10) || 5);
  var status = document.querySelector(".live-status");
  var busy = false;

  function editing() {
    var active = document.activeElement;
    if (!active || !region.contains(active)) return false;
    var tag = active.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function poll() {
    if (busy || document.hidden || editing()) return;
    busy = true;
    // The page without the one-time notice of the action just done.
    var url = location.pathname + location.search.replace(/([?&])done=[^&]*&?/, "$1").replace(/[?&]$/, "");
    fetch(url, { credentials: "same-origin", headers: { "X-Console-Poll": "1" } })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          say("Live updates paused: " + (response.ok ? "signed out" : "the server answered " + response.status) + ".");
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live]");
        if (fresh && fresh.innerHTML !== region.innerHTML && !editing()) {
          region.innerHTML = fresh.innerHTML;
          say("Updated at " + new Date().toLocaleTimeString() + ".");
        }
      })
      .catch(function () {
        say("Live updates paused: the server cannot be reached.");
      })
      .then(function () {
        busy = false;
      });
  }

  setInterval(poll, seconds * 1000);
})();
