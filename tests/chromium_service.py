"""Headless Chromium for the browser tests, with its scratch folders in one of their own."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMEDRIVER = Path("/usr/bin/chromedriver")


@contextmanager
def chromium_service() -> Iterator[Service]:
    """chromedriver, its Chromium's ``TMPDIR`` a folder removed when the block ends.

    Headless Chromium leaves the folder of its single-instance socket
    (``org.chromium.Chromium.*``) in ``TMPDIR`` when it is quit: one a browser, so a run
    of the suite left dozens in /tmp. The folder is made directly under /tmp, not under
    ``tmp_path``: a socket's path holds at most 107 bytes, and Chromium does not start
    with a longer one.
    """
    scratch = tempfile.mkdtemp(prefix="paperfeed-chromium-")
    try:
        yield Service(str(CHROMEDRIVER), env=dict(os.environ, TMPDIR=scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def chromium(options: webdriver.ChromeOptions) -> Iterator[WebDriver]:
    """A Chromium driven with ``options`` (pages get 60 s to load), quit at the end."""
    with chromium_service() as service:
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()
