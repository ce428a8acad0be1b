"""In chromium: a signed-in reader clicks "Not for me" on a card, sees it marked, finds it
on /account, and takes it back there; cards show the TL;DR and keyword links."""

from __future__ import annotations

import pytest

from running_site import Site
from test_web_browser import _open, _wait, browser  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_marks_a_paper_not_for_me_and_takes_it_back(
    site: Site,
    browser: WebDriver,  # noqa: F811
) -> None:
    driver = browser
    _open(driver, site, "/signup?next=/")
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada Lovelace")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "a.who")))

    card = driver.find_element(By.CSS_SELECTOR, "article.card")
    arxiv_id = card.get_attribute("data-id")
    assert card.find_element(By.CSS_SELECTOR, "p.tldr").text.startswith("TL;DR")
    assert card.find_elements(By.CSS_SELECTOR, "a.keyword")
    button = card.find_element(By.CSS_SELECTOR, "button.not-for-me-button")
    assert button.text == "✕ Not for me"
    button.click()
    selector = f'article.card[data-id="{arxiv_id}"] button.not-for-me-button'
    _wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), "Undo"))
    assert driver.find_element(By.CSS_SELECTOR, selector).get_attribute("aria-pressed") == "true"

    _open(driver, site, "/account")
    listed = driver.find_elements(By.CSS_SELECTOR, "ul.not-for-me-list li")
    assert len(listed) == 1 and arxiv_id in (
        listed[0].find_element(By.TAG_NAME, "a").get_attribute("href") or ""
    )
    driver.execute_script("document.documentElement.dataset.before = 'yes'")
    listed[0].find_element(By.CSS_SELECTOR, "button").click()
    _wait(driver).until(_a_new_page)  # the form posted and /account came back
    _wait(driver).until(EC.url_contains("/account"))
    assert not driver.find_elements(By.CSS_SELECTOR, "ul.not-for-me-list li")


def _a_new_page(driver: WebDriver) -> bool:
    """Whether the page marked before a click was replaced. Not ``staleness_of``: while
    the old page goes, chromium can answer a stale element with "Node with given id does
    not belong to the document", a plain WebDriverException that failed the wait."""
    try:
        return driver.execute_script("return document.documentElement.dataset.before") is None
    except WebDriverException:  # between the two documents
        return False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_not_for_me_by_keyboard_keeps_the_reader_s_place_and_focus(
    site: Site,
    browser: WebDriver,  # noqa: F811
) -> None:
    """Enter on "✕ Not for me" halfway down the daily list reloaded the whole page: the
    reader was back at its top, the keyboard focus on <body>. The mark is now made in
    place, the button (now "↺ Undo not for me") keeps the focus."""
    driver = browser
    _open(driver, site, "/signup?next=/")
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada Lovelace")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "a.who")))

    card = driver.find_elements(By.CSS_SELECTOR, "article.card")[8]
    arxiv_id = card.get_attribute("data-id")
    selector = f'article.card[data-id="{arxiv_id}"] button.not-for-me-button'
    button = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus()", button
    )
    driver.execute_script("window.notReloaded = true")
    scrolled = driver.execute_script("return window.scrollY")
    assert scrolled > 0
    button.send_keys(Keys.ENTER)
    _wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), "Undo"))
    assert driver.execute_script("return window.notReloaded === true"), "the page reloaded"
    assert driver.execute_script("return window.scrollY") == scrolled
    focused = driver.switch_to.active_element
    assert focused.get_attribute("data-paper") == arxiv_id and focused.text == "↺ Undo not for me"
    assert focused.get_attribute("aria-pressed") == "true"

    _open(driver, site, "/")  # kept: marked after a reload too
    button = driver.find_element(By.CSS_SELECTOR, selector)
    assert button.text == "↺ Undo not for me"
    driver.execute_script("arguments[0].focus(); window.notReloaded = true", button)
    button.send_keys(Keys.ENTER)
    _wait(driver).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), "✕ Not for me")
    )
    assert driver.execute_script("return window.notReloaded === true")
    assert driver.switch_to.active_element.get_attribute("aria-pressed") == "false"
    _open(driver, site, "/account")
    assert not driver.find_elements(By.CSS_SELECTOR, "ul.not-for-me-list li")
