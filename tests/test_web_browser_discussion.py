"""Discussion and collections in a real headless browser (Debian's chromium, Selenium):
comment with markup and a link, reply, edit; save papers from the paper page and from a
card's menu; the collection page, a Zotero import and the profile on /account."""

from __future__ import annotations

from pathlib import Path

import pytest

from running_site import LATEST_DAY, Site
from test_web_browser import (  # noqa: F401  (browser, screenshots: fixtures)
    _no_alert,
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

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOP_PAPER_ID = "2608.19880"
HOSTILE = '<script>alert("c")</script> <img src=x onerror=alert(2)> read https://example.org/notes?a=1&b=2.'
HOSTILE_LIST = "<img src=x onerror=alert(3)> Reading & group"


def _click(driver: WebDriver, element: WebElement) -> None:
    """Click after scrolling the element to the middle, clear of the sticky header."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_discusses_saves_imports_and_sees_their_profile(
    site: Site,
    browser: WebDriver,  # noqa: F811
    screenshots: Path,  # noqa: F811
) -> None:
    driver = browser
    paper_path = f"/papers/{TOP_PAPER_ID}"

    # Signed out, the paper page invites to sign in; sign up and come back to it.
    _open(driver, site, paper_path)
    section = driver.find_element(By.ID, "discussion")
    assert "No comments here yet" in section.text
    _click(driver, section.find_element(By.LINK_TEXT, "Sign in to comment"))
    _wait(driver).until(EC.url_contains("/signin"))
    _click(driver, driver.find_element(By.LINK_TEXT, "Create one"))
    form = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.stacked")))
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada Lovelace")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    _click(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    _wait(driver).until(EC.url_contains(paper_path))
    _wait(driver).until(EC.presence_of_element_located((By.ID, "new-comment")))

    # A comment with markup and a link: the markup is text, the link is a link.
    box = driver.find_element(By.CSS_SELECTOR, "#new-comment textarea")
    box.send_keys(HOSTILE)
    _click(driver, driver.find_element(By.CSS_SELECTOR, "#new-comment button[type=submit]"))
    _wait(driver).until(EC.url_contains("#comment-"))
    comment = _wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "section.discussion article.comment"))
    )
    assert comment.find_element(By.CSS_SELECTOR, ".comment-text").text == HOSTILE
    assert comment.find_element(By.CSS_SELECTOR, ".comment-author").text == "Ada Lovelace"
    link = comment.find_element(By.CSS_SELECTOR, ".comment-text a")
    assert link.get_attribute("href") == "https://example.org/notes?a=1&b=2"
    assert link.get_attribute("rel") == "nofollow ugc noopener"
    assert not driver.find_elements(By.CSS_SELECTOR, ".comment-text script, .comment-text img")
    _no_alert(driver)

    # A reply, then an edit of the comment.
    _click(driver, driver.find_element(By.CSS_SELECTOR, "details.reply-box summary"))
    reply_box = driver.find_element(By.CSS_SELECTOR, "details.reply-box textarea")
    reply_box.send_keys("Agreed, see section 4.")
    _click(driver, driver.find_element(By.CSS_SELECTOR, "details.reply-box button[type=submit]"))
    reply = _wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "article.comment.reply"))
    )
    assert reply.find_element(By.CSS_SELECTOR, ".comment-text").text == "Agreed, see section 4."
    first = driver.find_element(By.CSS_SELECTOR, "section.discussion article.comment")
    _click(driver, first.find_element(By.CSS_SELECTOR, "details.comment-edit summary"))
    editor = first.find_element(By.CSS_SELECTOR, "details.comment-edit textarea")
    editor.clear()
    editor.send_keys("Edited: https://example.org/v2")
    _click(driver, first.find_element(By.CSS_SELECTOR, "details.comment-edit button"))
    _wait(driver).until(
        EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "section.discussion article.comment .comment-head"), "(edited)"
        )
    )
    heading = driver.find_element(By.CSS_SELECTOR, "section.discussion h2").text
    assert "comments" in heading  # the source's one plus our two
    _shot(driver, screenshots, "21-paper-discussion")

    # Save the paper into a new collection from the paper page's menu.
    menu = driver.find_element(By.CSS_SELECTOR, "div.actions details.save")
    _click(driver, menu.find_element(By.TAG_NAME, "summary"))
    menu.find_element(By.CSS_SELECTOR, ".save-new input[name=name]").send_keys(HOSTILE_LIST)
    _click(driver, menu.find_element(By.CSS_SELECTOR, ".save-new button"))
    _wait(driver).until(
        EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "div.actions details.save summary"), "Saved"
        )
    )
    _no_alert(driver)

    # On the daily list, save another paper from its card's menu (in place, by script).
    _open(driver, site, f"/?date={LATEST_DAY}")
    card = driver.find_elements(By.CSS_SELECTOR, "article.card")[1]
    second_id = card.get_attribute("data-id")
    _click(driver, card.find_element(By.CSS_SELECTOR, "details.save summary"))
    option = card.find_element(By.CSS_SELECTOR, "form.save-toggle button")
    assert "Reading & group" in option.text and "<img" in option.text
    url_before = driver.current_url
    _click(driver, option)
    _wait(driver).until(
        EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, f'article.card[data-id="{second_id}"] details.save summary'), "Saved"
        )
    )
    assert driver.current_url == url_before
    assert card.find_element(By.CSS_SELECTOR, "form.save-toggle button .mark").text == "✓"
    _shot(driver, screenshots, "22-daily-save-menu")

    # The profile: the collection, the comments; then the collection page and an import.
    _open(driver, site, "/account")
    collections = driver.find_element(By.CSS_SELECTOR, "ul.collections")
    assert "2 papers" in collections.text and HOSTILE_LIST in collections.text
    comments = driver.find_element(By.CSS_SELECTOR, "ul.comments")
    assert "Agreed, see section 4." in comments.text and "Edited:" in comments.text
    _shot(driver, screenshots, "23-account")
    _click(driver, collections.find_element(By.TAG_NAME, "a"))
    _wait(driver).until(EC.url_contains("/collections/"))
    assert driver.find_element(By.CSS_SELECTOR, "h1.collection-name").text == HOSTILE_LIST
    ids = {
        c.get_attribute("data-id") for c in driver.find_elements(By.CSS_SELECTOR, "article.card")
    }
    assert ids == {TOP_PAPER_ID, second_id}
    exports = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".exports a")]
    assert exports and exports[0].endswith("/export?format=bibtex")
    _click(driver, driver.find_element(By.CSS_SELECTOR, "details.collection-import summary"))
    driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(
        str(FIXTURES / "zotero_export.bib")
    )
    _click(
        driver,
        driver.find_element(By.CSS_SELECTOR, "details.collection-import button[type=submit]"),
    )
    report = _wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".import-report"))
    )
    assert "7 entries read (bibtex)" in report.text
    unmatched = report.find_element(By.CSS_SELECTOR, "ul.unmatched").text
    assert "vaswani_attention_2023" in unmatched and "hastie_elements_2009" in unmatched
    assert len(driver.find_elements(By.CSS_SELECTOR, "article.card")) >= 4
    _no_alert(driver)
    _shot(driver, screenshots, "24-collection-import")
    assert _page_errors(driver) == []
