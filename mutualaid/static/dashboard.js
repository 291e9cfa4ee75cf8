// Live refresh of a dashboard page: every 10 s, fetch the page again and swap in the parts
// marked data-live (a request's state and its proposals), without a full reload.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="live-url"]');
  if (!meta || !window.fetch || !window.DOMParser) { return; }
  var url = meta.getAttribute("content");
  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var next = fresh.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
          if (next && next.innerHTML !== old.innerHTML) { old.innerHTML = next.innerHTML; }
        });
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }
  window.setInterval(refresh, 10000);
}());
