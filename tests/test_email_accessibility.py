"""Every e-mail's HTML part, checked by axe-core in Debian's Chromium as a mail program that
shows HTML would show it: a serious or critical violation fails, as on the app's pages
(tests/browser/). Chromium must be at /usr/bin/chromium (or CHROMIUM): never skipped."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from exchange.extensions import db
from exchange.notifications.services import queue_notification, render_notification
from tests.browser.conftest import CHROMIUM, assert_accessible
from tests.test_emails import SUBJECTS, _payload


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        pytest.fail(f"these tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page()
        yield page
        browser.close()


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.usefixtures("reference")
@pytest.mark.parametrize("language", ["en", "es", "pt"])
@pytest.mark.parametrize("kind", sorted(SUBJECTS))
def test_every_email_is_accessible(kind, language, page, axe):
    recipient, payload = _payload(kind, language)
    recipient.language = language
    notification = queue_notification(recipient, kind, **payload)
    db.session.commit()
    html = render_notification(notification).html
    page.set_content(html)
    assert page.title()  # the subject, for a screen reader's first words
    assert page.locator("html").get_attribute("lang") == language
    assert_accessible(axe, page, f"e-mail {kind} ({language})")
