"""End to end in a real headless browser: Debian's chromium driven by Selenium.

What a reader does on the site, and what the reader sees: the daily list (with a hostile
title shown as text), a search with highlighted terms, a paper page with its BibTeX and
similar papers, signing up to upvote, and the vote kept across reloads.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from running_site import LATEST_DAY, XSS_ID, XSS_TITLE, Site

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
for _needed in (CHROMIUM, CHROMEDRIVER):
    if not _needed.exists():
        pytest.skip(f"browser tests need {_needed}, which is absent", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from chromium_service import chromium  # noqa: E402

WAIT_S = 15
TOP_PAPER_ID = "2608.19880"
TOP_PAPER_TITLE = "EnvHarness: Awakening Static Worlds for Agent Learning"
# read at import: the autouse ``paperfeed_home`` fixture clears PAPERFEED_* before each test
SCREENSHOTS = os.environ.get("PAPERFEED_SCREENSHOTS")


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--window-size=1280,1400",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with chromium(options) as driver:
        yield driver


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    return Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "screenshots"


def _wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_S)


def _shot(driver: WebDriver, folder: Path, name: str) -> None:
    """A full-page screenshot, best effort: a failure here never fails the test."""
    with contextlib.suppress(WebDriverException, OSError, ValueError, TypeError):
        folder.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(max(int(height), 800), 6000))
        driver.save_screenshot(str(folder / f"{name}.png"))
    with contextlib.suppress(WebDriverException):
        driver.set_window_size(1280, 1400)


def _open(driver: WebDriver, site: Site, path: str) -> None:
    driver.get(site.url + path)
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "footer.site")))


def _card(driver: WebDriver, arxiv_id: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'article.card[data-id="{arxiv_id}"]')


def _no_alert(driver: WebDriver) -> None:
    with pytest.raises(TimeoutException):
        WebDriverWait(driver, 1).until(EC.alert_is_present())


def _vote_state(button: WebElement) -> tuple[int, bool]:
    classes = (button.get_attribute("class") or "").split()
    return int(button.find_element(By.CSS_SELECTOR, "span.count").text), "voted" in classes


def _wait_vote(driver: WebDriver, selector: str, expected: tuple[int, bool]) -> None:
    def seen(d: WebDriver) -> bool:
        try:
            return _vote_state(d.find_element(By.CSS_SELECTOR, selector)) == expected
        except (WebDriverException, ValueError):
            return False

    _wait(driver).until(seen, f"upvote button {selector} never showed {expected}")


def _page_errors(driver: WebDriver) -> list[str]:
    """Script errors and CSP violations in the console.

    Not counted: the 401 of the signed-out upvote (expected: the script answers it by
    going to the sign-in page). A missing icon counts: every page names one."""
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return []
    return [
        entry["message"]
        for entry in entries
        if entry.get("level") == "SEVERE"
        and not re.search(r"/upvote - .* 401 ", entry.get("message", ""))
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reader_browses_searches_signs_up_and_upvotes(
    site: Site, browser: WebDriver, screenshots: Path
) -> None:
    driver = browser

    # 1. The daily list: the day's cards, the top paper first, the hostile title as text.
    _open(driver, site, "/")
    cards = driver.find_elements(By.CSS_SELECTOR, "article.card")
    assert len(cards) == 18
    assert cards[0].get_attribute("data-id") == TOP_PAPER_ID
    assert cards[0].find_element(By.CSS_SELECTOR, "h3.title a").text == TOP_PAPER_TITLE
    assert _vote_state(cards[0].find_element(By.CSS_SELECTOR, "button.upvote")) == (163, False)
    assert "Aug 21, 2026" in driver.find_element(By.CSS_SELECTOR, ".period-label").text
    hostile = _card(driver, XSS_ID).find_element(By.CSS_SELECTOR, "h3.title a")
    assert hostile.text == XSS_TITLE
    _no_alert(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "main script, main img")
    _shot(driver, screenshots, "01-daily")

    # 2. A topic in the top search box, Enter: results with marked terms and a "Why:" line.
    box = driver.find_element(By.CSS_SELECTOR, "form.top-search input[name=q]")
    box.send_keys("agent environments", Keys.ENTER)
    _wait(driver).until(EC.url_contains("/search?"))
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "article.card")))
    assert "result" in driver.find_element(By.CSS_SELECTOR, ".result-count").text
    results = driver.find_elements(By.CSS_SELECTOR, "article.card")
    marks = [m.text.lower() for m in driver.find_elements(By.CSS_SELECTOR, "article.card mark")]
    assert any(m.startswith(("agent", "environment")) for m in marks), marks
    whys = driver.find_elements(By.CSS_SELECTOR, "article.card p.why")
    assert whys and whys[0].text.startswith("Why:")
    assert driver.find_element(By.CSS_SELECTOR, ".search-form input[name=q]").get_attribute(
        "value"
    ) == ("agent environments")
    _shot(driver, screenshots, "02-search")

    # 3. The first result's page: abstract, similar papers, and the BibTeX behind "Cite".
    first = results[0].find_element(By.CSS_SELECTOR, "h3.title a")
    first_id = results[0].get_attribute("data-id")
    first_title = first.text
    first.click()
    _wait(driver).until(EC.url_to_be(f"{site.url}/papers/{first_id}"))
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.similar")))
    assert driver.find_element(By.CSS_SELECTOR, "article.paper h1").text == first_title
    abstract = driver.find_element(By.CSS_SELECTOR, "section.abstract-full p").text
    assert len(abstract) > 200
    assert driver.find_element(By.CSS_SELECTOR, "section.similar h2").text == "Similar papers"
    similar = driver.find_elements(By.CSS_SELECTOR, "section.similar article.card")
    assert similar and all(card.get_attribute("data-id") != first_id for card in similar)
    bibtex = driver.find_element(By.ID, "bibtex")
    assert not bibtex.is_displayed()
    driver.find_element(By.ID, "cite-toggle").click()
    _wait(driver).until(EC.visibility_of(bibtex))
    assert bibtex.text.startswith("@")
    assert first_id in bibtex.text
    _shot(driver, screenshots, "03-paper")

    # 4. Upvoting while signed out leads to the sign-in page; sign up and come back.
    paper_path = f"/papers/{first_id}"
    page_vote = "div.actions button.upvote"
    count, voted = _vote_state(driver.find_element(By.CSS_SELECTOR, page_vote))
    assert not voted
    driver.find_element(By.CSS_SELECTOR, page_vote).click()
    _wait(driver).until(EC.url_contains("/signin"))
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "input[name=email]")))
    assert driver.find_element(By.CSS_SELECTOR, "main h1").text == "Sign in"
    assert driver.find_element(By.CSS_SELECTOR, "input[name=next]").get_attribute("value") == (
        paper_path
    )
    _shot(driver, screenshots, "04-signin")
    driver.find_element(By.LINK_TEXT, "Create one").click()
    _wait(driver).until(EC.url_contains("/signup"))
    form = _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.stacked")))
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada Lovelace")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    _shot(driver, screenshots, "05-signup")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.url_to_be(site.url + paper_path))
    _wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "a.who"), "Ada"))

    _wait_vote(driver, page_vote, (count, False))
    driver.find_element(By.CSS_SELECTOR, page_vote).click()
    _wait_vote(driver, page_vote, (count + 1, True))
    assert driver.current_url == site.url + paper_path  # updated in place, no navigation
    driver.refresh()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.similar")))
    _wait_vote(driver, page_vote, (count + 1, True))
    _shot(driver, screenshots, "06-paper-voted")
    driver.find_element(By.CSS_SELECTOR, page_vote).click()
    _wait_vote(driver, page_vote, (count, False))
    driver.refresh()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "section.similar")))
    _wait_vote(driver, page_vote, (count, False))
    # by keyboard: the focus stays on the button (a disabled one dropped it to the top),
    # and a screen reader hears what the count counts
    button = driver.find_element(By.CSS_SELECTOR, page_vote)
    assert f"Upvotes: {count}" in " ".join((button.get_attribute("textContent") or "").split())
    driver.execute_script("arguments[0].focus()", button)
    button.send_keys(Keys.ENTER)
    _wait_vote(driver, page_vote, (count + 1, True))
    assert driver.switch_to.active_element == driver.find_element(By.CSS_SELECTOR, page_vote)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    _wait_vote(driver, page_vote, (count, False))

    # 5. Follow a similar paper.
    other = driver.find_element(By.CSS_SELECTOR, "section.similar article.card")
    other_id = other.get_attribute("data-id")
    other_link = other.find_element(By.CSS_SELECTOR, "h3.title a")
    other_title = other_link.text
    assert other_id and other_id != first_id
    other_link.click()
    _wait(driver).until(EC.url_to_be(f"{site.url}/papers/{other_id}"))
    heading = _wait(driver).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "article.paper h1"))
    )
    assert heading.text == other_title

    # The hostile paper's own page: title, authors and abstract are text, no alert.
    _open(driver, site, f"/papers/{XSS_ID}")
    assert driver.find_element(By.CSS_SELECTOR, "article.paper h1").text == XSS_TITLE
    assert "Mallory <Evil>" in driver.find_element(By.CSS_SELECTOR, ".authors-full").text
    assert "<img src=x" in driver.find_element(By.CSS_SELECTOR, ".abstract-full p").text
    _no_alert(driver)
    _shot(driver, screenshots, "07-paper-hostile")

    # The other views a reader meets.
    _open(driver, site, "/trending")
    assert driver.find_element(By.CSS_SELECTOR, ".hero h1").text == "Trending Papers"
    assert driver.find_elements(By.CSS_SELECTOR, "article.card span.rank")
    _shot(driver, screenshots, "08-trending")

    _open(driver, site, "/?week=2026-W34")
    assert "Week 2026-W34" in driver.find_element(By.CSS_SELECTOR, ".period-label").text
    assert len(driver.find_elements(By.CSS_SELECTOR, "article.card")) == 50  # page 1 of 3
    driver.find_element(By.CSS_SELECTOR, ".pager a[rel=next]").click()
    _wait(driver).until(EC.url_contains("page=2"))
    assert "Page 2 of 3" in driver.find_element(By.CSS_SELECTOR, ".pager").text
    _shot(driver, screenshots, "09-week")

    _open(driver, site, "/?date=2026-08-16")
    empty = driver.find_element(By.CSS_SELECTOR, ".empty")
    assert "No papers on Aug 16, 2026" in empty.text
    assert not driver.find_elements(By.CSS_SELECTOR, "article.card")
    empty.find_element(By.PARTIAL_LINK_TEXT, "Aug 17, 2026").click()
    _wait(driver).until(EC.url_contains("date=2026-08-17"))
    driver.back()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".empty")))
    _shot(driver, screenshots, "10-weekend")

    _open(driver, site, f"/?date={LATEST_DAY}")
    assert _page_errors(driver) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_subscribe_form_and_digest_preview(
    site: Site, browser: WebDriver, screenshots: Path
) -> None:
    driver = browser
    _open(driver, site, "/")
    driver.find_element(By.CSS_SELECTOR, ".promo a").click()
    _wait(driver).until(EC.url_contains("/subscribe"))
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert heading == "Get trending papers in your inbox"
    zones = driver.find_element(By.ID, "time-zone")
    assert zones.get_attribute("value")  # a zone is chosen (the browser's, or UTC)
    assert len(driver.find_elements(By.CSS_SELECTOR, ".topic-row")) == 3
    _shot(driver, screenshots, "11-subscribe")
    driver.find_element(By.LINK_TEXT, "See a sample digest").click()
    _wait(driver).until(EC.url_contains("/digest/preview"))
    _wait(driver).until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
    assert driver.find_element(By.TAG_NAME, "h1").text == "Your daily papers"
    links = driver.find_elements(By.CSS_SELECTOR, f'a[href$="/papers/{TOP_PAPER_ID}"]')
    assert links and links[0].text == TOP_PAPER_TITLE
    assert "This is a sample" in driver.find_element(By.TAG_NAME, "body").text
    assert (
        driver.find_element(By.LINK_TEXT, "Subscribe").get_attribute("href").endswith("/subscribe")
    )
    _shot(driver, screenshots, "12-digest-preview")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [1280, 420, 375])
def test_search_filters_show_their_whole_placeholder(
    site: Site, browser: WebDriver, width: int
) -> None:
    # emulated: a headless window is never under 500px wide, so 420 was measured at 500
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": width < 640},
    )
    _open(browser, site, "/search")
    assert browser.execute_script("return window.innerWidth") == width
    for name in ("cat", "since", "until"):
        field = browser.find_element(By.CSS_SELECTOR, f'.search-form input[name="{name}"]')
        # the placeholder as the value: any overflow shows as a scroll width past the box
        fits = browser.execute_script(
            "const f = arguments[0]; f.value = f.placeholder;"
            "return f.scrollWidth <= f.clientWidth;",
            field,
        )
        assert fits, f"the {name} field cuts its placeholder off at {width}px"


@pytest.fixture
def scriptless_browser() -> Iterator[WebDriver]:
    """Chromium with JavaScript switched off, as some readers browse."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2}
    )
    with chromium(options) as driver:
        yield driver


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_scripts_a_paper_page_shows_its_bibtex(
    site: Site, scriptless_browser: WebDriver
) -> None:
    """With JavaScript off, "Cite" and "Copy BibTeX" were buttons that did nothing and the
    BibTeX stayed hidden: no way to cite the paper. Now the BibTeX shows, those buttons
    don't."""
    driver = scriptless_browser
    _open(driver, site, f"/papers/{TOP_PAPER_ID}")
    toggle = driver.find_element(By.ID, "cite-toggle")
    assert toggle.get_attribute("aria-expanded") is None  # app.js, which sets it, never ran
    bibtex = driver.find_element(By.ID, "bibtex")
    assert bibtex.is_displayed() and bibtex.text.startswith("@")
    assert TOP_PAPER_ID in bibtex.text
    assert not toggle.is_displayed()
    assert not driver.find_element(By.ID, "copy-bibtex").is_displayed()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_escape_closes_the_save_menu_and_gives_the_focus_back(
    site: Site, browser: WebDriver
) -> None:
    """Opened by the keyboard, a card's save menu could not be closed by it: Escape did
    nothing, the menu stayed over the cards below."""
    driver = browser
    _open(driver, site, "/signup?next=/")
    form = driver.find_element(By.CSS_SELECTOR, "form.stacked")
    form.find_element(By.NAME, "email").send_keys("ada@example.org")
    form.find_element(By.NAME, "name").send_keys("Ada")
    form.find_element(By.NAME, "password").send_keys("correct horse battery")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "a.who")))
    menu = _card(driver, TOP_PAPER_ID).find_element(By.CSS_SELECTOR, "details.save")
    summary = menu.find_element(By.TAG_NAME, "summary")
    driver.execute_script("arguments[0].focus()", summary)
    summary.send_keys(Keys.ENTER)
    _wait(driver).until(lambda d: menu.get_attribute("open") is not None)
    driver.switch_to.active_element.send_keys(Keys.TAB)
    inside = driver.switch_to.active_element
    assert inside.find_element(By.XPATH, "ancestor::details").id == menu.id
    inside.send_keys(Keys.ESCAPE)
    _wait(driver).until(lambda d: menu.get_attribute("open") is None)
    assert driver.switch_to.active_element.id == summary.id
