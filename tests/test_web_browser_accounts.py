"""A forgotten password, reset in a real headless browser (Debian's chromium, Selenium),
with the mail read from a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
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
            with httpx.Client(base_url=url) as client:
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
