"""Every public and dashboard page checked by a tool, as a person using assistive technology
would meet it: axe-core (tests/e2e/axe, installed by `make test` with npm ci) in Debian's
Chromium on each page at phone and laptop width, in the network's default language and every
right-to-left language shipped, failing on any violation; on the same pages, every focus
outline at least 3:1 against what surrounds it, every chart and map text at least 12 px as
rendered; the map telling categories by a numbered mark and a written legend, not by colour
alone; and the 10-second live refresh announced as one short polite sentence, not the whole
table.

One service (the demo network, so that every page has rows, charts and marks) and one
browser session per language and width, visiting all the pages."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from mutualaid.services.languages import load_languages
from mutualaid.services.links import proposal_token
from mutualaid.settings import load_settings
from tests.conftest import IN_CI
from tests.e2e.conftest import ROOT, LiveServer, dashboard_pages, running_service, screenshot
from tests.e2e.test_dashboard_browser import _rows

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=110)]

AXE = ROOT / "tests" / "e2e" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# The rules of WCAG 2.2 A and AA that a tool can check.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# The languages checked: the network's default (the first of LANGUAGES as shipped) and every
# right-to-left language shipped (Arabic), whose pages are mirrored. The other languages are
# the same templates with other words: tests/web/test_every_language.py renders every page
# in each of them (a session here costs ~12 s).
_DEFAULT = load_settings(environ={"MUTUALAID_ENV": "development"})["LANGUAGES"]
_SHIPPED = load_languages(
    ROOT / "config", sorted(p.stem for p in (ROOT / "config" / "languages").glob("*.toml"))
)
RIGHT_TO_LEFT = [code for code, lang in _SHIPPED.items() if lang.direction == "rtl"]
LANGUAGES = [_DEFAULT[0], *(code for code in RIGHT_TO_LEFT if code != _DEFAULT[0])]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 900}}
EMAIL = "a11y-admin@example.org"
PASSWORD = "an accessible admin password"
MIN_FOCUS_CONTRAST = 3.0
PICTURED = {"home", "request-form-errors", "overview", "request", "map", "figures"}
MIN_TEXT_PX = 12.0

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")) }));
}"""

# Colours as WCAG computes contrast; the background behind an element is the first
# ancestor's opaque background (the page's white when none).
COLOUR_JS = """
const parseColour = (text) => {
  const m = text.match(/rgba?\\(([^)]+)\\)/);
  if (!m) { return null; }
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const luminance = (c) => {
  const [r, g, b] = c.slice(0, 3).map((v) => {
    v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const ownBackground = (el) => {
  for (let n = el; n; n = n.parentElement) {
    const c = parseColour(getComputedStyle(n).backgroundColor);
    if (c && c[3] > 0.5) { return c; }
  }
  return [255, 255, 255, 1];
};
// What is painted just outside an element's outline, at the middle of each side: the
// first thing under that point that is not the element itself (the skip link lies over
// the dark top bar, not over the page it belongs to in the document).
const coloursAround = (el, reach) => {
  const box = el.getBoundingClientRect();
  const midX = (box.left + box.right) / 2, midY = (box.top + box.bottom) / 2;
  const points = [[box.left - reach, midY], [box.right + reach, midY],
    [midX, box.top - reach], [midX, box.bottom + reach]];
  const found = [];
  for (const [x, y] of points) {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) { continue; }
    const under = document.elementsFromPoint(x, y).find((n) => n !== el && !el.contains(n));
    if (under) { found.push(ownBackground(under)); }
  }
  return found.length ? found : [ownBackground(el.parentElement || el)];
};
const describe = (el) => {
  const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
  const text = el.innerText || el.value || el.getAttribute("aria-label") || "";
  return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    classes.filter(Boolean).map((c) => "." + c).join("") + " «" + text.trim().slice(0, 30) + "»";
};
"""

# Each focusable control, focused as the keyboard focuses it: its outline is drawn
# (at least 2 px, outside or on its edge) in a colour at least 3:1 against the background
# the outline lies on. Returns the failures and how many controls were checked.
FOCUS_OUTLINES = (
    "(minimum) => {"
    + COLOUR_JS
    + """
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[tabindex]:not([tabindex="-1"])';
  const failures = []; let checked = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || el.getClientRects().length === 0) { continue; }
    el.focus({ focusVisible: true });
    if (document.activeElement !== el) { continue; }
    checked += 1;
    const style = getComputedStyle(el);
    const width = parseFloat(style.outlineWidth) || 0;
    const offset = parseFloat(style.outlineOffset) || 0;
    const colour = parseColour(style.outlineColor);
    // Against what lies outside the outline and, with no gap, the element's own colour.
    const around = coloursAround(el, Math.max(offset, 0) + width + 1);
    if (offset < 1) { around.push(ownBackground(el)); }
    let ratio = Infinity, behind = around[0];
    for (const c of around) {
      const r = colour ? contrast(colour, c) : 0;
      if (r < ratio) { ratio = r; behind = c; }
    }
    if (!el.matches(":focus-visible") || style.outlineStyle === "none" || width < 2 ||
        offset < 0 || ratio < minimum) {
      failures.push({ element: describe(el), outline: style.outlineStyle + " " + width +
        "px " + style.outlineColor, behind: "rgb(" + behind.slice(0, 3).join(",") + ")",
        ratio: Math.round(ratio * 100) / 100 });
    }
    el.blur();
  }
  return { failures, checked };
}"""
)

# Every text drawn in an SVG (charts, the map, its legend), at the size it is rendered.
SVG_TEXT_SIZES = """(minimum) => {
  const small = []; let checked = 0;
  for (const el of document.querySelectorAll("svg text")) {
    if (el.getClientRects().length === 0 || !el.textContent.trim()) { continue; }
    const m = el.getScreenCTM();
    const px = parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b);
    checked += 1;
    if (px < minimum) {
      small.push(el.textContent.trim().slice(0, 20) + ": " + px.toFixed(1) + " px");
    }
  }
  return { small, checked };
}"""

# The map without colour: each mark carries its category's number as text, each number
# is written out in the legend with its category's name, and no two categories share one.
MAP_WITHOUT_COLOUR = """() => {
  const legend = {};
  for (const li of document.querySelectorAll(".map .legend li")) {
    const words = [...li.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join(" ").trim();
    const m = words.match(/^(\\d+)\\s+(\\S.*)$/);
    if (m) { legend[m[1]] = m[2].trim(); }
  }
  const marks = [...document.querySelectorAll(".map svg g.mark")].map((g) => ({
    number: (g.querySelector("text.mark-label") || { textContent: "" }).textContent.trim(),
    shape: g.querySelector("circle") ? "circle" : g.querySelector("rect") ? "square" : "",
    title: (g.querySelector("title") || { textContent: "" }).textContent.trim(),
  }));
  return { legend, marks };
}"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        message = "axe-core is not installed: run `npm ci --prefix tests/e2e/axe` (make test does)"
        if IN_CI:
            pytest.fail("CI=true but " + message)
        pytest.skip(message)
    return AXE


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service as `make run` starts it with its demo network (requests in every state,
    volunteers, proposals waiting, texts, figures, a map), and an admin account, who sees
    every dashboard page. The worker matches only on demand, so the pages hold still."""
    with running_service(
        tmp_path_factory.mktemp("a11y"),
        MUTUALAID_DEMO="1",
        MUTUALAID_LANGUAGES=",".join(LANGUAGES),
        MUTUALAID_MATCH_INTERVAL_SECONDS="86400",
        MUTUALAID_MATCH_DEBOUNCE_SECONDS="86400",
        MUTUALAID_FORM_RATE_LIMIT="1000",
        # One login per session (a language at a width) and the live check's: more than
        # the per-account limit allows in its window.
        MUTUALAID_LOGIN_RATE_LIMIT="1000",
        MUTUALAID_LOGIN_ADDRESS_RATE_LIMIT="1000",
    ) as server:
        _run_cli(server, "create-user", EMAIL, "--role", "admin", answer=PASSWORD)
        yield server


def _run_cli(server: LiveServer, *args: str, answer: str = "") -> None:
    """`mutualaid ARGS` in a second shell, as a coordinator types it."""
    done = subprocess.run(
        [sys.executable, "-m", "mutualaid", *args],
        input=answer + "\n",
        env=server.env,
        cwd=server.log.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _proposal_links(server: LiveServer) -> tuple[list[tuple[int, str]], str, str]:
    """(request id, link path) of each proposal waiting for an answer, the link of one
    declined or expired (its "gone" page) and of one accepted (the volunteer's task page)."""
    secret = (server.log.parent / "instance" / "secret_key").read_text().strip()
    rows = _rows(server.database_url, "SELECT id, offer_id, code, status, request_id FROM matches")

    def link(row: dict) -> str:
        return "/t/" + proposal_token(secret, SimpleNamespace(**row))

    waiting = [(r["request_id"], link(r)) for r in rows if r["status"] == "proposed"]
    gone = next(link(r) for r in rows if r["status"] in ("declined", "expired", "withdrawn"))
    task = next(link(r) for r in rows if r["status"] == "accepted")
    return waiting, gone, task


def _log_in(page, url: str) -> None:
    page.goto(url + "/login")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/dashboard/")


class Audit:
    """What one session found, page by page."""

    def __init__(self, lang: str, width: str) -> None:
        self.where = f"{lang}@{width}"
        self.pages = 0
        self.violations: list[str] = []
        self.focus: list[str] = []
        self.small_text: list[str] = []
        self.colour_only: list[str] = []
        self.controls = 0

    def check(self, page, name: str, *, phone: bool) -> None:
        """axe, focus outlines and SVG text on the page as it is now."""
        self.pages += 1
        for v in page.evaluate(AXE_RUN, AXE_TAGS):
            for target in v["targets"]:
                self.violations.append(
                    f"{self.where} {name}: {v['id']} ({v['impact']}) {target} — {v['help']}"
                )
        page.keyboard.press("Tab")  # keyboard modality, as a keyboard user's focus is
        outlines = page.evaluate(FOCUS_OUTLINES, MIN_FOCUS_CONTRAST)
        self.controls += outlines["checked"]
        self.focus += [
            f"{self.where} {name}: {f['element']} outline {f['outline']} on {f['behind']}"
            f" = {f['ratio']}:1"
            for f in outlines["failures"]
        ]
        if phone:
            sizes = page.evaluate(SVG_TEXT_SIZES, MIN_TEXT_PX)
            self.small_text += [f"{self.where} {name}: {s}" for s in sizes["small"]]


def _visit(page, url: str, path: str, expected_status: int = 200) -> None:
    response = page.goto(url + path, wait_until="load")
    assert response is not None and response.status == expected_status, (path, response)


def _audit_session(
    browser, server: LiveServer, axe: Path, lang: str, width: str, proposal: str
) -> Audit:
    """One browser session in ``lang`` at ``width``: every public page, then every
    dashboard page, each checked where it stands."""
    url = server.url
    context = browser.new_context(viewport=VIEWPORTS[width])
    context.add_cookies([{"name": "lang", "value": lang, "url": url}])
    context.add_init_script(path=str(axe))
    page = context.new_page()
    audit = Audit(lang, width)
    phone = width == "phone"
    _, gone, task = _proposal_links(server)

    def check(name: str) -> None:
        assert page.evaluate("document.documentElement.lang") == lang, (name, page.url)
        direction = "rtl" if lang in RIGHT_TO_LEFT else "ltr"
        assert page.evaluate("document.dir || 'ltr'") == direction, (name, page.url)
        audit.check(page, name, phone=phone)
        # Pictures of a few phone pages (full-page pictures cost seconds), in the first
        # language and right to left.
        if phone and name in PICTURED and (lang == LANGUAGES[0] or lang in RIGHT_TO_LEFT):
            screenshot(page, f"a11y-{lang}-{width}-{name}")

    try:
        for name, path in {
            "home": "/",
            "privacy": "/privacy",
            "request-form": "/request",
            "volunteer-form": "/volunteer",
            "login": "/login",
            "sms-simulator": "/dev/sms",
        }.items():
            _visit(page, url, path)
            check(name)
        _visit(page, url, "/privacy%00", 400)  # the error page, in the reader's language
        check("error")
        _visit(page, url, gone, 410)
        check("proposal-gone")
        _visit(page, url, task)
        check("task")
        _visit(page, url, proposal)
        check("proposal")
        page.locator("button[name=answer][value=no]").click()
        page.wait_for_load_state("load")
        check("proposal-answered")
        # The request form sent empty (its errors), then filled in (its thanks page).
        _visit(page, url, "/request")
        page.locator("form button[type=submit]").click()
        page.wait_for_load_state("load")
        check("request-form-errors")
        page.locator("input[name=category]").first.check()
        page.locator("#location_text").fill("11216")
        page.locator("#phone").fill("(718) 555-0150")
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/thanks")
        check("thanks")

        _log_in(page, url)
        (req,) = _rows(server.database_url, "SELECT max(request_id) AS id FROM matches")
        (offer,) = _rows(
            server.database_url, "SELECT id, person_id FROM offers ORDER BY id LIMIT 1"
        )
        pages = dashboard_pages(req["id"], offer["id"], offer["person_id"])
        pages |= {"import": "/dashboard/import", "accounts": "/admin/accounts"}  # admin's
        for name, path in pages.items():
            _visit(page, url, path)
            check(name)
            if name == "map":
                audit.colour_only += _map_problems(page)
        _visit(page, url, "/dashboard/matching")
        page.locator("#preview").click()
        page.wait_for_load_state("load")
        check("matching-preview")
        _visit(page, url, "/dashboard/messages")
        page.locator("#search-q").fill("groceries")
        page.locator("form[role=search] button[type=submit]").click()
        page.wait_for_load_state("load")
        check("text-search")
    finally:
        context.close()
    return audit


def _map_problems(page) -> list[str]:
    """What tells a category only by colour on the map page (nothing, when all is well)."""
    found = page.evaluate(MAP_WITHOUT_COLOUR)
    legend, marks = found["legend"], found["marks"]
    problems = []
    if not marks:
        problems.append("map: no marks found (g.mark)")
    if len(legend) < 2 or len(set(legend.values())) != len(legend):
        problems.append(f"map: the legend does not name one category per number: {legend}")
    for mark in marks:
        # A number written on the mark, the legend naming its category, and a shape for
        # its kind (volunteers round, requests square).
        if mark["number"] not in legend or legend[mark["number"]] not in mark["title"]:
            problems.append(f"map: mark {mark} is not numbered as the legend says")
        if mark["shape"] not in ("circle", "square"):
            problems.append(f"map: mark {mark} has no shape")
    return problems


def _check_live_refresh_is_announced(browser, server: LiveServer, request_id: int, link: str):
    """A coordinator watches a request while its volunteer says yes on their link: within
    one refresh (10 s, run on a fake clock) a polite status region says what changed in
    one short sentence; the refreshed parts themselves are not live regions (a screen
    reader would otherwise read out the whole table)."""
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    try:
        watcher = context.new_page()
        watcher.clock.install()
        _log_in(watcher, server.url)
        _visit(watcher, server.url, f"/dashboard/requests/{request_id}")
        announcer = watcher.locator("[data-live-announcer]")
        assert announcer.get_attribute("aria-live") == "polite"
        assert announcer.get_attribute("role") == "status"
        assert announcer.inner_text().strip() == ""
        parts = watcher.locator("[data-live]")
        assert parts.count() >= 2
        inside_live = watcher.evaluate(
            "[...document.querySelectorAll('[data-live]')].filter(e => "
            "e.closest('[aria-live]:not([aria-live=off]), [role=status], [role=log]')).length"
        )
        assert inside_live == 0, "a refreshed part is itself announced whole"
        volunteer = context.new_page()
        volunteer.goto(server.url + link)
        volunteer.locator("button[name=answer][value=yes]").click()
        volunteer.wait_for_load_state("load")
        volunteer.close()
        watcher.clock.run_for(10_500)
        expect(announcer).to_have_text(re.compile(r"\S"), timeout=15_000)
        said = announcer.inner_text().strip()
        (ref,) = _rows(
            server.database_url, "SELECT ref FROM aid_requests WHERE id = :id", id=request_id
        )
        print(f"\nthe live refresh said: {said!r}")
        assert ref["ref"] in said and "matched" in said and "accepted" in said, said
        assert len(said) < 160, said  # a sentence, not the table read out
        assert watcher.locator("[data-live=matches]").inner_text().count("accepted") >= 1
        # Nothing changed since: the next refresh says nothing new.
        watcher.evaluate("document.querySelector('[data-live-announcer]').textContent = ''")
        with watcher.expect_response(lambda r: r.request.headers.get("x-live-refresh") == "1"):
            watcher.clock.run_for(10_500)
        watcher.wait_for_timeout(500)  # its body read and compared (timers are faked)
        assert announcer.inner_text().strip() == ""
    finally:
        context.close()


def test_every_page_passes_axe_in_every_language_at_phone_and_laptop_width(
    demo_server, browser, axe_script
) -> None:
    assert len(LANGUAGES) >= 2 and RIGHT_TO_LEFT, LANGUAGES
    sessions = [(lang, width) for lang in LANGUAGES for width in VIEWPORTS]
    waiting, _, _ = _proposal_links(demo_server)
    if len(waiting) < len(sessions) + 1:
        # Each session answers one proposal, and the live check one more: with more
        # languages than the demo has proposals for, a matching run proposes again.
        _run_cli(demo_server, "match")
        waiting, _, _ = _proposal_links(demo_server)
    assert len(waiting) >= len(sessions) + 1, "too few proposals waiting"
    audits = [
        _audit_session(browser, demo_server, axe_script, lang, width, waiting[i][1])
        for i, (lang, width) in enumerate(sessions)
    ]
    pages = sum(a.pages for a in audits)
    print(
        f"\naxe-core {AXE_TAGS}: {pages} page checks = {audits[0].pages} pages x "
        f"{len(VIEWPORTS)} widths x {len(LANGUAGES)} languages ({', '.join(LANGUAGES)}); "
        f"{sum(len(a.violations) for a in audits)} violations; "
        f"{sum(a.controls for a in audits)} focus outlines checked, "
        f"{sum(len(a.focus) for a in audits)} under {MIN_FOCUS_CONTRAST}:1; "
        f"{sum(len(a.small_text) for a in audits)} SVG texts under {MIN_TEXT_PX} px at 390 px"
    )
    problems = [p for a in audits for p in a.violations + a.focus + a.small_text + a.colour_only]
    if problems:
        pytest.fail(f"{len(problems)} problems:\n" + "\n".join(problems), pytrace=False)
    request_id, link = waiting[len(sessions)]
    _check_live_refresh_is_announced(browser, demo_server, request_id, link)
