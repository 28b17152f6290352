"""Everything by keyboard alone: the skip link, the main navigation (on a laptop and behind the
menu button on a phone) and the whole practice form, each stop visible and marked by a focus
ring; the form filled and saved without a mouse."""

import pytest
from playwright.sync_api import Page, expect

from exchange.extensions import db
from exchange.reference.services import load_reference
from tests.browser.conftest import PHONE, Person
from tests.factories import PASSWORD, make_member

pytestmark = pytest.mark.browser

# What has the focus: where it is, whether it shows, and how (reading the computed style of the
# element under :focus-visible, as the browser draws it). The element is marked as reached.
FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  element.dataset.reachedByKeyboard = "yes";
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  const label = element.labels && element.labels.length ? element.labels[0].innerText
    : element.getAttribute("aria-label") || element.innerText || element.value || "";
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    label: label.trim().replace(/\\s+/g, " ").slice(0, 80),
    inForm: element.form ? element.form.id || "form" : "",
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 &&
      box.top < innerHeight && box.left < innerWidth,
    // On the calendar button inside a month field: the browser's own part, with its own ring.
    browserPart: !element.matches(":focus") && element.matches(":focus-within"),
    focusVisible: element.matches(":focus-visible"),
    ring: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) ||
      style.boxShadow !== "none",
  };
}"""

# The controls of the page's practice form that the keyboard can reach but did not.
NOT_REACHED = """() => {
  const form = document.querySelector("main form.panel");
  return Array.from(form.elements)
    .filter((e) => e.type !== "hidden" && !e.disabled && e.tabIndex >= 0)
    .filter((e) => e.getClientRects().length)
    .filter((e) => e.dataset.reachedByKeyboard !== "yes")
    .map((e) => e.id || e.name || e.outerHTML.slice(0, 80));
}"""


def tab(page: Page, backwards: bool = False) -> dict:
    page.keyboard.press("Shift+Tab" if backwards else "Tab")
    # The page scrolls smoothly to the focused element: give it a moment to arrive.
    for _attempt in range(20):
        focused = page.evaluate(FOCUSED)
        assert focused is not None, "the focus left the page"
        if focused["onScreen"]:
            break
        page.wait_for_timeout(50)
    return focused


def assert_shows_focus(focused: dict) -> None:
    assert focused["onScreen"], f"the focused element is off screen: {focused}"
    if focused["browserPart"]:
        return  # Chromium rings its picker button itself (not styleable from the page)
    assert focused["focusVisible"], f"not :focus-visible after a key press: {focused}"
    assert focused["ring"], f"no visible focus ring (outline or box-shadow): {focused}"


def tab_to(page: Page, label: str, limit: int = 40) -> dict:
    """Tab until the element with this label has the focus, checking every stop on the way."""
    for _step in range(limit):
        focused = tab(page)
        assert_shows_focus(focused)
        if focused["label"] == label:
            return focused
    raise AssertionError(f"{label!r} not reached in {limit} presses of Tab")


@pytest.fixture(scope="module")
def member(app, live_server):
    with app.app_context():
        load_reference()
        db.session.commit()
        user = make_member(email="teclado@keyboard.example.org", name="Teclado Uno")
        email = user.email
        db.session.remove()
    return email


def test_navigation_and_practice_form_by_keyboard_alone(people, member):
    person: Person = people("4-keyboard", email=member)
    page, _ = person.page, person._
    page.goto("/login")

    # The skip link comes first, shows itself, and moves the focus to the content.
    focused = tab(page)
    assert focused["label"] == _("Skip to main content")
    assert_shows_focus(focused)
    person.shoot("skip link")
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()

    # The log-in form, typed.
    tab_to(page, _("E-mail address"))
    page.keyboard.type(member)
    tab_to(page, _("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=_("My account"))).to_be_visible()

    # The main navigation, from the top of the page: every link and button of the header.
    page.goto("/")
    tab(page)  # the skip link
    stops = []
    for _step in range(20):
        focused = tab(page)
        if not focused["label"] or focused["tag"] not in ("a", "button"):
            break
        assert_shows_focus(focused)
        stops.append(focused["label"])
        if focused["label"] == "PT" or "Português" in focused["label"]:
            break
    for label in ("Exchange", _("Catalogue"), _("Programmes"), _("Authorities"), _("Workspace")):
        assert any(stop.endswith(label) for stop in stops), f"{label!r} not in {stops}"
    assert any(_("Notifications") in stop for stop in stops), stops
    assert any("Português" in stop or stop == "PT" for stop in stops), stops
    person.shoot("language switcher focused")

    # The practice form, every control in order, then filled and saved by keyboard.
    page.goto("/practices/new")
    focused = tab_to(page, _("Title"))
    page.keyboard.type("Mesas de diálogo barrial por teclado")
    person.shoot("title focused")
    ticked = False
    for _step in range(200):
        focused = tab(page)
        assert_shows_focus(focused)
        if focused["tag"] == "input" and focused["id"].startswith("themes-") and not ticked:
            page.keyboard.press("Space")
            ticked = True
            person.shoot("theme ticked")
        if focused["tag"] == "button" and focused["label"] == _("Save the draft"):
            break
    else:
        raise AssertionError("the save button was not reached")
    assert ticked, "no theme checkbox was reached"
    assert page.evaluate(NOT_REACHED) == []
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", level=1, name="Mesas de diálogo barrial por teclado")
    ).to_be_visible()

    # On a phone the navigation folds behind the menu button, which opens it.
    page.set_viewport_size(PHONE)
    page.goto("/")
    toggle = tab_to(page, _("Show menu"))
    assert toggle["tag"] == "button"
    page.keyboard.press("Enter")
    expect(person.nav.get_by_role("link", name=_("Catalogue"))).to_be_visible()
    focused = tab(page)
    assert focused["label"] == _("Catalogue")
    assert_shows_focus(focused)
    person.shoot("menu opened on a phone")
