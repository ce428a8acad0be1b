"""In Debian's chromium: from a card to an author's page and an organisation's page, the
trend chart of a search, and "For you" from signing up to recommendations."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from running_site import Site
from test_web_browser import (  # the browser and its helpers, shared with the main tour
    TOP_PAPER_ID,
    _card,
    _open,
    _page_errors,
    _shot,
    _wait,
    _wait_vote,
    browser,
    screenshots,
)

pytestmark = pytest.mark.browser

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

__all__ = ["browser", "screenshots"]  # fixtures, used by name
HARNESS_PAPERS = ["2608.19880", "2608.16798", "2608.17597"]


def _top_shot(driver: WebDriver, folder: Path, name: str) -> None:
    """The first screenful only (the full-page shots of long lists are hard to read)."""
    with contextlib.suppress(WebDriverException, OSError):
        folder.mkdir(parents=True, exist_ok=True)
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(folder / f"{name}.png"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_follows_authors_organisations_and_a_trend(
    site: Site, browser: WebDriver, screenshots: Path
) -> None:
    driver = browser
    _open(driver, site, "/")
    card = _card(driver, TOP_PAPER_ID)
    author_link = card.find_element(By.CSS_SELECTOR, ".meta .authors a")
    author = author_link.text
    author_link.click()
    _wait(driver).until(EC.url_contains("/authors/"))
    heading = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))
    assert heading.text == author
    assert _card(driver, TOP_PAPER_ID)
    bars = driver.find_elements(By.CSS_SELECTOR, "figure.chart svg rect.bar")
    assert bars and driver.find_element(By.CSS_SELECTOR, "figure.chart svg").is_displayed()
    coauthors = driver.find_elements(By.CSS_SELECTOR, "ul.coauthors a")
    assert coauthors and author not in [link.text for link in coauthors]
    _shot(driver, screenshots, "21-author")

    _card(driver, TOP_PAPER_ID).find_element(By.CSS_SELECTOR, "a.org").click()
    _wait(driver).until(EC.url_contains("/organizations/"))
    heading = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))
    assert heading.text == "Google"
    assert "upvote" in driver.find_element(By.CSS_SELECTOR, ".profile .tagline").text
    _shot(driver, screenshots, "22-organization")

    _open(driver, site, "/search?q=agent")
    chart = driver.find_element(By.CSS_SELECTOR, "figure#trend")
    assert chart.is_displayed()
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar")) == 18
    size = chart.find_element(By.TAG_NAME, "svg").size
    assert size["width"] > 300 and 40 < size["height"] < 400
    assert "Papers per month matching agent" in chart.text
    _shot(driver, screenshots, "23-search-trend")
    _top_shot(driver, screenshots, "23a-search-trend-top")
    assert _page_errors(driver) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_for_you_from_sign_up_to_recommendations(
    site: Site, browser: WebDriver, screenshots: Path
) -> None:
    driver = browser
    _open(driver, site, "/for-you")  # signed out: sent to sign in, coming back here after
    _wait(driver).until(EC.url_to_be(site.url + "/signin?next=/for-you"))
    _shot(driver, screenshots, "24-for-you-signed-out")
    driver.find_element(By.LINK_TEXT, "Create one").click()
    _wait(driver).until(EC.url_contains("/signup?next="))
    form = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.stacked")))
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada Lovelace")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.url_to_be(site.url + "/for-you"))
    empty = _wait(driver).until(EC.presence_of_element_located((By.ID, "for-you-empty")))
    assert "upvote papers" in empty.text
    _shot(driver, screenshots, "25-for-you-empty")

    for arxiv_id in HARNESS_PAPERS:
        _open(driver, site, f"/papers/{arxiv_id}")
        selector = "div.actions button.upvote"
        count = int(driver.find_element(By.CSS_SELECTOR, f"{selector} span.count").text)
        driver.find_element(By.CSS_SELECTOR, selector).click()
        _wait_vote(driver, selector, (count + 1, True))

    _open(driver, site, "/for-you")
    cards = driver.find_elements(By.CSS_SELECTOR, "article.card")
    assert len(cards) == 30
    shown = [card.get_attribute("data-id") for card in cards]
    assert not set(shown) & set(HARNESS_PAPERS)
    because = driver.find_elements(By.CSS_SELECTOR, "p.because")
    assert len(because) == 30 and because[0].text.startswith("Because you upvoted “")
    because[0].find_element(By.LINK_TEXT, "see it").click()
    _wait(driver).until(EC.url_contains("/papers/"))
    assert driver.current_url.rsplit("/", 1)[1] in HARNESS_PAPERS
    driver.back()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.because")))
    _shot(driver, screenshots, "26-for-you")
    _top_shot(driver, screenshots, "27-for-you-top")
    # the signed-out page's own 401 is logged as a failed load: expected, it says sign in
    errors = [e for e in _page_errors(driver) if "/for-you - " not in e or " 401 " not in e]
    assert errors == []
