"""A coordinator who cannot use a mouse, in a real browser against the real service: log in,
reach the unmatched requests, open one, add a note, preview a matching run, leave one pair
out and send the rest — with Tab, Shift+Tab, Enter and Space only (and typing into
fields). Every control reached shows a visible focus outline; no mouse event ever fires."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_dashboard_browser import (
    EMAIL,
    PASSWORD,
    _ask_for_groceries,
    _confirm_from_phone,
    _offer_groceries,
    _rows,
    quiet_server,  # noqa: F401 (a fixture: the service, its worker's matching held off)
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow(seconds=35)]

NOTE = "Called her back: mornings are best"


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, type: el.type || "", value: el.value || "",
    text: (el.innerText || el.value || "").trim(), href: el.getAttribute("href") || "",
    label: el.getAttribute("aria-label") || "", checked: !!el.checked,
    outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0,
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def assert_focus_visible(element: dict) -> None:
    """The focused control is on screen and drawn with an outline (dashboard.css :focus-visible)."""
    assert element["onScreen"], element
    assert element["outline"] not in ("none", "") and element["outlineWidth"] >= 2, element


def tab_to(page, wanted, *, backwards: bool = False, limit: int = 120) -> dict:
    """Press Tab (or Shift+Tab) until the focused element satisfies ``wanted``; check its
    focus is visible; return it."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        element = focused(page)
        if element is not None and wanted(element):
            assert_focus_visible(element)
            return element
    raise AssertionError(f"{key} never reached the element wanted on {page.url}")


def text_is(text: str):
    return lambda e: e["text"] == text


def no_mouse_so_far(page) -> None:
    assert page.evaluate("window.__mouseEvents || 0") == 0


def test_a_coordinator_works_with_the_keyboard_only(quiet_server, browser) -> None:  # noqa: F811
    server = quiet_server
    url = server.url
    setup = browser.new_context()
    try:
        setup_page = setup.new_page()
        # Two requests and two volunteers in different parts of town: two separate pairs.
        # Each confirmed from its phone, as the form asks ("YES 12345").
        for phone in ("(718) 555-0142", "(718) 555-0143"):
            _ask_for_groceries(setup_page, url, phone)
            _confirm_from_phone(server, setup_page, phone, "aid_requests")
        for phone in ("718 555 0177", "718 555 0178"):
            _offer_groceries(setup_page, url, phone)
            _confirm_from_phone(server, setup_page, phone, "offers")
    finally:
        setup.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Count every mouse event the pages see: the journey must leave it at zero.
    context.add_init_script(
        "window.__mouseEvents = 0;"
        "for (const kind of ['mousedown', 'mouseup', 'click', 'pointerdown']) {"
        "  document.addEventListener(kind, (e) => { if (e.detail > 0 || e.pointerType) {"
        "    window.__mouseEvents += 1; } }, true); }"
    )
    page = context.new_page()
    try:
        page.goto(url + "/login")
        # The first Tab reaches the skip link, which shows itself when focused.
        skip = tab_to(page, lambda e: e["href"] == "#main")
        assert skip["text"] == "Skip to content"
        tab_to(page, lambda e: e["id"] == "email")
        page.keyboard.type(EMAIL)
        tab_to(page, lambda e: e["id"] == "password")
        page.keyboard.type(PASSWORD)
        tab_to(page, text_is("Log in"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard/")
        no_mouse_so_far(page)

        # The overview's card leads to the open requests no volunteer was asked about.
        tab_to(page, lambda e: "open with no volunteer asked" in e["text"])
        page.keyboard.press("Enter")
        page.wait_for_url(
            lambda address: "/dashboard/requests?" in address and "state=open" in address
        )
        rows = _rows(server.database_url, "SELECT id, ref FROM aid_requests ORDER BY id")
        refs = {r["ref"]: r["id"] for r in rows}
        opened = tab_to(page, lambda e: e["text"] in refs and "/dashboard/requests/" in e["href"])
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/dashboard/requests/{refs[opened['text']]}")
        screenshot(page, "dashboard-keyboard-request")

        # A note: past the text box to the button, back with Shift+Tab, type, then Space.
        tab_to(page, text_is("Add the note"))
        note_box = tab_to(page, lambda e: e["id"] == "note-body", backwards=True)
        assert note_box["tag"] == "textarea"
        page.keyboard.type(NOTE)
        tab_to(page, text_is("Add the note"))
        page.keyboard.press("Space")
        page.get_by_text("Note added.").wait_for()
        assert NOTE in page.locator("ol.notes").inner_text()
        assert EMAIL in page.locator("ol.notes").inner_text()
        notes = _rows(server.database_url, "SELECT request_id, body FROM request_notes")
        assert notes == [{"request_id": refs[opened["text"]], "body": NOTE}]

        # Matching: preview, leave the first pair out with Space, send the other.
        tab_to(page, text_is("Matching"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard/matching")
        tab_to(page, text_is("Preview the next run"))
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Preview").wait_for()
        assert "2 proposals" in page.get_by_role("heading", name="Preview").inner_text()
        first = tab_to(page, lambda e: e["type"] == "checkbox")
        assert first["checked"] and first["label"].startswith("Send the proposal for")
        page.keyboard.press("Space")
        assert focused(page)["checked"] is False
        kept = tab_to(page, lambda e: e["type"] == "checkbox")
        assert kept["checked"]
        screenshot(page, "dashboard-keyboard-preview")
        tab_to(page, text_is("Send the checked proposals"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/dashboard/matching")
        notices = page.get_by_role("status").all_inner_texts()
        assert any(
            "Sent 1 of the 1 checked proposals as previewed; 1 unchecked requests left open" in n
            for n in notices
        ), notices
        proposed = _rows(server.database_url, "SELECT request_id, status FROM matches")
        assert proposed == [{"request_id": int(kept["value"]), "status": "proposed"}]
        no_mouse_so_far(page)
    finally:
        context.close()
