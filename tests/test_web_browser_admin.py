"""An invite-only site in a real headless browser (Debian's chromium, Selenium): the admin
makes an invite link on /admin, the invitee signs up with it, reports a comment, the
link is refused when used again, and the admin hides the reported comment."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed import accounts, administration, discussion
from paperfeed.administration import Actor
from running_site import Site
from test_web_browser import (  # noqa: F401  (browser, screenshots: fixtures)
    _open,
    _page_errors,
    _shot,
    _wait,
    browser,
    screenshots,
)

pytestmark = pytest.mark.browser

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

PASSWORD = "correct horse battery"
TOP_PAPER_ID = "2608.19880"
CLI = Actor(None, "command line (test)")


@pytest.fixture
def invite_site(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Site:
    monkeypatch.setenv("PAPERFEED_SIGNUP", "invite")
    found: Site = request.getfixturevalue("site")
    return found


def _click(driver: WebDriver, element: WebElement) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def _sign_in(driver: WebDriver, site: Site, email: str) -> None:
    _open(driver, site, "/signin")
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    form.find_element(By.NAME, "email").send_keys(email)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    _click(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "a.who")))


def _sign_out(driver: WebDriver) -> None:
    _click(driver, driver.find_element(By.XPATH, "//nav//button[text()='Sign out']"))
    _wait(driver).until(EC.presence_of_element_located((By.LINK_TEXT, "Sign in")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_invites_and_the_invitee_signs_up_and_reports(
    invite_site: Site,
    browser: WebDriver,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    site, driver = invite_site, browser
    cli = Actor(None, "command line (test)")
    administration.create_user(site.store, cli, "root@example.org", PASSWORD, "Root", admin=True)
    eve = accounts.sign_up(site.store, "eve@example.org", PASSWORD, "Eve")
    spam = discussion.post_comment(site.store, eve, TOP_PAPER_ID, "Cheap watches, click here")

    # Signed out, the site says sign-up needs an invite.
    _open(driver, site, "/signup")
    assert "needs an invite link" in driver.find_element(By.CSS_SELECTOR, "p.error").text
    assert not driver.find_elements(By.CSS_SELECTOR, "form[action='/signup']")

    # The admin makes an invite link for Bob on /admin.
    _sign_in(driver, site, "root@example.org")
    _click(driver, driver.find_element(By.LINK_TEXT, "Admin"))
    _wait(driver).until(EC.url_contains("/admin"))
    _click(driver, driver.find_element(By.LINK_TEXT, "Invites"))
    form = _wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "form.invite-form"))
    )
    assert driver.find_element(By.CSS_SELECTOR, "strong.signup-policy").text == "invite"
    form.find_element(By.NAME, "email").send_keys("bob@example.org")
    _click(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    field = _wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "input.invite-link"))
    )
    link = field.get_attribute("value") or ""
    assert "/signup?invite=" in link
    assert driver.find_element(By.CSS_SELECTOR, "td.invite-state").text == "open"
    _shot(driver, screenshots, "admin-invites")
    _sign_out(driver)

    # Bob follows the link: his address is filled in; he signs up and is signed in.
    path = link[link.index("/signup") :]
    _open(driver, site, path)
    assert (
        "You were invited as bob@example.org"
        in driver.find_element(By.CSS_SELECTOR, "p.invite-note").text
    )
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    email = form.find_element(By.NAME, "email")
    assert email.get_attribute("value") == "bob@example.org" and email.get_attribute("readonly")
    form.find_element(By.NAME, "name").send_keys("Bob")
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    _click(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    who = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "a.who")))
    assert who.text == "Bob"
    assert not driver.find_elements(By.LINK_TEXT, "Admin")  # Bob is no admin

    # He reports Eve's comment from the paper page.
    _open(driver, site, f"/papers/{TOP_PAPER_ID}")
    box = driver.find_element(By.ID, f"comment-{spam.id}")
    _click(driver, box.find_element(By.CSS_SELECTOR, "details.comment-report summary"))
    box.find_element(By.NAME, "reason").send_keys("advertising")
    _click(driver, box.find_element(By.CSS_SELECTOR, "details.comment-report button"))
    note = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.reported-note")))
    assert f"Comment {spam.id} was reported" in note.text
    _open(driver, site, "/admin")
    assert "admins only" in driver.find_element(By.CSS_SELECTOR, "p.error").text
    _sign_out(driver)

    # The link works once: opened again, it is refused and no form is shown.
    _open(driver, site, path)
    assert "used already" in driver.find_element(By.CSS_SELECTOR, "p.error").text
    assert not driver.find_elements(By.CSS_SELECTOR, "form[action='/signup']")

    # The admin sees the report and hides the comment; the thread says so.
    _sign_in(driver, site, "root@example.org")
    _open(driver, site, "/admin")
    row = driver.find_element(By.CSS_SELECTOR, "table.admin-reports tr[id^=report-]")
    assert "advertising" in row.text and "Cheap watches" in row.text
    _click(driver, row.find_element(By.XPATH, ".//button[text()='Hide comment']"))
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.empty-reports")))
    _open(driver, site, f"/papers/{TOP_PAPER_ID}")
    box = driver.find_element(By.ID, f"comment-{spam.id}")
    assert "removed by a moderator" in box.text and "Cheap watches" not in box.text
    _shot(driver, screenshots, "admin-removed-comment")
    # the refused pages (403, 400) are logged as failed loads: expected, not script errors
    refusals = "the server responded with a status of 4"
    assert [error for error in _page_errors(driver) if refusals not in error] == []


_PAGE_WIDER_THAN_SCREEN = """
const screen = document.documentElement.clientWidth;
return [document.documentElement.scrollWidth, screen,
  Array.from(document.querySelectorAll('main table')).map(t => t.className)];
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_pages_fit_a_phone_screen(site: Site, browser: WebDriver) -> None:  # noqa: F811
    """At 375px the users and audit tables pushed the whole admin page sideways (the
    header and forms scrolled off with them); a wide table now scrolls within itself."""
    admin = administration.create_user(site.store, CLI, "root@example.org", PASSWORD, admin=True)
    user = administration.create_user(site.store, CLI, "reader@example.org", PASSWORD)
    actor = Actor.of(admin)
    administration.create_invite(site.store, actor, "guest@example.org", 7)
    administration.disable(site.store, actor, user)
    _sign_in(browser, site, "root@example.org")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": True},
    )
    for path in ("/admin", "/admin/users", "/admin/invites", "/admin/audit"):
        _open(browser, site, path)
        page_width, screen, tables = browser.execute_script(_PAGE_WIDER_THAN_SCREEN)
        assert screen == 375, f"the screen is {screen}px wide, not a phone's"
        assert tables, f"no table on {path} to measure"
        assert page_width <= screen, f"{path} is {page_width}px wide on a {screen}px screen"
        assert not _page_errors(browser)
