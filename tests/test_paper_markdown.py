"""Papers as markdown (``/papers/{id}.md``, ``Accept: text/markdown``) and ``/llms.txt``,
over real HTTP against a running site."""

from __future__ import annotations

import re

from hub_site import TOP_PAPER
from paperfeed.accounts import sign_up
from paperfeed.discussion import post_comment
from running_site import XSS_ID, Site


def test_a_paper_as_markdown(site: Site) -> None:
    user = sign_up(site.store, "reader@example.org", "a long enough password", "Ada Reader")
    post_comment(site.store, user, TOP_PAPER, "Does the harness *transfer* to web agents?")
    with site.client() as client:
        response = client.get(f"/papers/{TOP_PAPER}.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    assert text.startswith("# EnvHarness: Awakening Static Worlds for Agent Learning\n")
    for line in [
        "- **Authors:** Chengsong Huang, Zifeng Wang, Rujun Han",
        "- **Organization:** Google",
        "- **Published:** Aug 20, 2026",
        "- **On the daily list:** Aug 21, 2026",
        "- **Upvotes:** 163",
        "- **Comments:** 2",  # one reported by the source, one written here
        "- arXiv: https://arxiv.org/abs/2608.19880",
        "- PDF: https://arxiv.org/pdf/2608.19880",
        f"- This page: {site.url}/papers/{TOP_PAPER}",
        "- Code: https://github.com/google-research/envharness (8 stars)",
        "- Project page: https://envharness.com/",
        "## Abstract",
        "## Discussion",
        "## Similar papers",
    ]:
        assert line in text, line
    assert "LLM agents learn by interacting with environments" in text
    assert r"Ada Reader (" in text and r"Does the harness \*transfer\* to web agents?" in text
    similar = re.findall(
        rf"^- \[.+\]\({re.escape(site.url)}/papers/(\d{{4}}\.\d{{5}})\.md\)", text, re.M
    )
    assert len(similar) >= 3 and TOP_PAPER not in similar
    with site.client() as client:
        for linked in similar[:2]:
            assert client.get(f"/papers/{linked}.md").status_code == 200


def test_accept_markdown_on_the_paper_page(site: Site) -> None:
    with site.client() as client:
        markdown = client.get(f"/papers/{TOP_PAPER}", headers={"Accept": "text/markdown"})
        html = client.get(f"/papers/{TOP_PAPER}", headers={"Accept": "text/html"})
        browser = client.get(
            f"/papers/{TOP_PAPER}",
            headers={"Accept": "text/html,application/xhtml+xml,text/markdown;q=0.5"},
        )
        suffix = client.get(f"/papers/{TOP_PAPER}.md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text == suffix.text and markdown.headers["vary"] == "Accept"
    assert html.headers["content-type"].startswith("text/html") and "Accept" in html.headers["vary"]
    assert browser.headers["content-type"].startswith("text/html")


def test_the_accept_header_s_weights_decide(site: Site) -> None:
    """An agent's ``Accept`` is read by its ``q`` values, not by where the types stand:
    markdown preferred by weight though named after HTML is markdown, ``q=0`` refuses it,
    and ``text/x-markdown`` is markdown too."""
    cases = {
        "text/html;q=0.5, text/markdown": "text/markdown",
        "text/markdown;q=0.4, text/html;q=0.5": "text/html",
        "text/markdown;q=0": "text/html",
        "text/markdown;q=0, */*": "text/html",
        "text/x-markdown": "text/markdown",
        # what an agent's fetch tool sends
        "text/markdown;q=1.0, text/x-markdown;q=0.9, text/html;q=0.7, */*;q=0.1": "text/markdown",
        "text/markdown, text/html": "text/markdown",
        "text/html, text/markdown": "text/html",
        "text/markdown;q=oops, text/html;q=0.1": "text/html",
    }
    with site.client() as client:
        for accept, expected in cases.items():
            answer = client.get(f"/papers/{TOP_PAPER}", headers={"Accept": accept})
            assert answer.status_code == 200, accept
            assert answer.headers["content-type"].startswith(expected), accept


def test_markdown_escapes_markup_in_titles(site: Site) -> None:
    with site.client() as client:
        text = client.get(f"/papers/{XSS_ID}.md").text
    assert text.startswith(r"# \<script\>alert(1)\</script\> Attention Is Not Escaped")


def test_unknown_papers_are_404s(site: Site) -> None:
    with site.client() as client:
        for path in ("/papers/2608.00001.md", "/papers/not-an-id.md"):
            assert client.get(path).status_code == 404, path
        missing = client.get("/papers/2608.00001", headers={"Accept": "text/markdown"})
        assert missing.status_code == 404


def test_llms_txt_describes_the_site_for_agents(site: Site) -> None:
    with site.client() as client:
        response = client.get("/llms.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "# paperfeed" and lines[2].startswith("> ")
    sections = [line for line in lines if line.startswith("## ")]
    assert sections[:2] == ["## Papers as markdown", "## JSON API"] and "## MCP" in sections
    links = re.findall(r"^- \[[^\]]+\]\(([^)]+)\)", response.text, re.M)
    assert f"{site.url}/api/daily_papers" in links and f"{site.url}/mcp" in links
    with site.client() as client:
        for link in links:
            if (
                link.startswith(f"{site.url}/api/")
                and "for_you" not in link
                and "collections" not in link
            ):
                assert client.get(link).status_code in (200, 404), link


def test_a_comment_a_moderator_removed_is_not_in_the_markdown(site: Site) -> None:
    """The page shows a removed comment as "removed by a moderator", without its author or
    text; the markdown (and MCP's paper tool, which returns it) must not show more."""
    from paperfeed.administration import Actor
    from paperfeed.moderation import remove_comment

    ada = sign_up(site.store, "ada@example.org", "a long enough password", "Ada Reader")
    eve = sign_up(site.store, "eve@example.org", "a long enough password", "Eve Spammer")
    spam = post_comment(site.store, eve, TOP_PAPER, "Buy cheap watches at example.com")
    post_comment(site.store, ada, TOP_PAPER, "Please stop.", parent_id=spam.id)
    post_comment(site.store, ada, TOP_PAPER, "A real question about the harness.")
    remove_comment(site.store, Actor(None, "test"), spam.id, "hide")
    with site.client() as client:
        text = client.get(f"/papers/{TOP_PAPER}.md").text
        negotiated = client.get(f"/papers/{TOP_PAPER}", headers={"Accept": "text/markdown"}).text
    for shown in (text, negotiated):
        assert "cheap watches" not in shown and "Eve Spammer" not in shown
        assert "removed by a moderator — 1 replies" in shown
        assert "Ada Reader (" in shown and "A real question about the harness." in shown
        # one from the source, two of Ada's: the removed one is not counted
        assert "- **Comments:** 3" in shown
        assert "3 comments (2 on this site, in 2 threads)" in shown
