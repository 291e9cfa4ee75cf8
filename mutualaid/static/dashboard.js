// Live refresh of a dashboard page: every 10 s, fetch the page again and swap in the parts
// marked data-live (a request's state and its proposals), without a full reload. What
// changed is said once in the page's polite status region (data-live-announcer), as one
// short sentence per changed part — its heading, and the states or counts it shows — never
// the part itself (a whole table read out).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="live-url"]');
  if (!meta || !window.fetch || !window.DOMParser) { return; }
  var url = meta.getAttribute("content");
  var announcer = document.querySelector("[data-live-announcer]");

  function words(el) { return el ? el.textContent.replace(/\s+/g, " ").trim() : ""; }

  // "Request T4YJ7T matched" (a part inside a heading: the heading says it all);
  // "Proposals: accepted, declined (2)" (a part under a heading: its states, or its cards).
  function summary(part) {
    var heading = part.closest("h1, h2, h3");
    if (heading) { return words(heading); }
    var labelled = part.closest("[aria-labelledby]");
    var name = labelled
      ? words(document.getElementById(labelled.getAttribute("aria-labelledby"))) : "";
    var counts = {}, order = [];
    part.querySelectorAll(".status, .card").forEach(function (el) {
      var text = words(el);
      if (!(text in counts)) { counts[text] = 0; order.push(text); }
      counts[text] += 1;
    });
    var facts = order.map(function (text) {
      return counts[text] > 1 ? text + " (" + counts[text] + ")" : text;
    });
    return facts.length ? name + ": " + facts.join(", ") : name;
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var said = [];
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var next = fresh.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
          if (!next || next.innerHTML === old.innerHTML) { return; }
          old.innerHTML = next.innerHTML;
          said.push(summary(old));
        });
        if (announcer && said.length) { announcer.textContent = said.join(". "); }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }
  window.setInterval(refresh, 10000);
}());
