"""Account pages in a real headless browser (Debian's chromium, Selenium): a forgotten
password reset with the mail read from a real SMTP server (aiosmtpd), the account page's
answers in view, and deleting a collection through its confirmation page."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from account_helpers import Inbox, reset_path, sign_up, smtp_server
from running_site import Site, serve
from test_web_browser import (  # noqa: F401  (browser, screenshots: fixtures)
    _no_alert,
    _page_errors,
    _shot,
    _wait,
    browser,
    screenshots,
)

pytestmark = pytest.mark.browser

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

from http_clients import http_client  # noqa: E402


def _open(driver: WebDriver, url: str) -> None:
    driver.get(url)
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "footer.site")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_resets_a_forgotten_password_in_the_browser(
    site: Site,
    browser: WebDriver,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    driver = browser
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mailing = replace(site.settings, smtp_host="127.0.0.1", smtp_port=port)
        with serve(mailing) as url:
            with http_client(base_url=url) as client:
                sign_up(client, "grace@example.org", "the old passphrase")
            _open(driver, url + "/signin")
            driver.find_element(By.LINK_TEXT, "Forgot password?").click()
            form = _wait(driver).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, "form.stacked"))
            )
            form.find_element(By.NAME, "email").send_keys("grace@example.org")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            _wait(driver).until(EC.title_contains("Check your inbox"))
            assert "If an account uses grace@example.org" in driver.page_source
            _shot(driver, screenshots, "reset-1-asked")
            inbox.wait_for(1)

            _open(driver, url + reset_path(inbox.messages[0][1]))
            assert "Choose a new password" in driver.find_element(By.TAG_NAME, "h1").text
            field = driver.find_element(By.NAME, "new")
            field.send_keys("the new passphrase")
            driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]").click()
            _wait(driver).until(EC.title_contains("Password changed"))
            _shot(driver, screenshots, "reset-2-done")

            driver.find_element(By.LINK_TEXT, "Sign in").click()
            form = _wait(driver).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, "form.stacked"))
            )
            form.find_element(By.NAME, "email").send_keys("grace@example.org")
            form.find_element(By.NAME, "password").send_keys("the new passphrase")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            # signed in, the header's link led to the account, not back to the used link
            _wait(driver).until(EC.url_contains("/account"))
            assert "grace@example.org" in driver.page_source
            assert driver.find_element(By.LINK_TEXT, "Download your data")
            _no_alert(driver)
            assert _page_errors(driver) == []


_IN_VIEW = """
const shown = document.querySelector(arguments[0]);
if (!shown) return null;
const box = shown.getBoundingClientRect();
return [shown.textContent.trim(), box.top >= 0 && box.bottom <= window.innerHeight,
        document.activeElement === shown];
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_account_page_brings_its_answers_into_view(
    site: Site,
    browser: WebDriver,  # noqa: F811
) -> None:
    """A wrong current password in "Change password" came back to the top of /account,
    the error 400px below the window's edge: the reader saw nothing happen. The answer
    (an error, "Password changed", a new API token) now takes the focus, and so the view."""
    driver = browser
    driver.set_window_size(1280, 700)
    _open(driver, f"{site.url}/signup?next=/account")
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.url_to_be(f"{site.url}/account"))

    def change_password(current: str) -> None:
        change = driver.find_element(By.CSS_SELECTOR, 'form[action="/account/password"]')
        change.find_element(By.NAME, "current").send_keys(current)
        change.find_element(By.NAME, "new").send_keys("a new horse battery")
        driver.execute_script("arguments[0].requestSubmit()", change)
        _wait(driver).until(EC.url_to_be(f"{site.url}/account/password"))
        _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "footer.site")))

    change_password("not my password")
    text, in_view, focused = driver.execute_script(_IN_VIEW, "p.error")
    assert text == "the current password is wrong"
    assert in_view and focused
    assert driver.find_element(By.CSS_SELECTOR, "p.error").get_attribute("role") == "alert"

    change_password("correct horse battery")
    text, in_view, focused = driver.execute_script(_IN_VIEW, "p.notice")
    assert text.startswith("Password changed")
    assert in_view and focused

    _open(driver, f"{site.url}/account")
    tokens = driver.find_element(By.CSS_SELECTOR, 'form[action="/account/tokens"]')
    tokens.find_element(By.NAME, "label").send_keys("laptop")
    driver.execute_script("arguments[0].requestSubmit()", tokens)
    _wait(driver).until(EC.presence_of_element_located((By.ID, "new-token")))
    text, in_view, focused = driver.execute_script(_IN_VIEW, "p.notice")
    assert text.startswith("Your new token")
    assert in_view and focused


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_deleting_a_collection_asks_first(
    site: Site,
    browser: WebDriver,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    """The "Delete this collection" button deleted at the click; it now opens a page
    naming the collection and its paper count, where Cancel goes back and Delete deletes."""
    driver = browser
    _open(driver, f"{site.url}/signup?next=/account")
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.url_to_be(f"{site.url}/account"))
    create = driver.find_element(By.CSS_SELECTOR, 'form[action="/collections"]')
    create.find_element(By.NAME, "name").send_keys("Thursday group")
    create.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.url_contains("/collections/"))
    collection = driver.current_url

    def ask() -> None:
        driver.find_element(By.CSS_SELECTOR, "details.collection-edit summary").click()
        driver.find_element(By.PARTIAL_LINK_TEXT, "Delete this collection").click()
        _wait(driver).until(EC.url_to_be(f"{collection}/delete"))

    ask()
    question = driver.find_element(By.ID, "collection-delete")
    assert "Delete “Thursday group”?" in question.text and "0 papers" in question.text
    _shot(driver, screenshots, "collection-delete-asked")
    question.find_element(By.LINK_TEXT, "Cancel").click()
    _wait(driver).until(EC.url_to_be(collection))
    assert driver.find_element(By.CSS_SELECTOR, "h1.collection-name").text == "Thursday group"

    ask()
    driver.find_element(By.CSS_SELECTOR, "#collection-delete button[type=submit]").click()
    _wait(driver).until(EC.url_to_be(f"{site.url}/account#collections"))
    assert "Thursday group" not in driver.find_element(By.TAG_NAME, "main").text
    assert _page_errors(driver) == []
