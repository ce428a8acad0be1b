"""Author and organisation pages (``/authors/{name}``, ``/organizations/{name}``).

``install`` registers the routes and the ``organization_name`` template filter, which
shows every spelling of an organisation by one name; links to both kinds of page quote
the name with ``url_quoting.path_segment`` (the ``path_segment`` filter).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

from paperfeed import votes
from paperfeed.search.profiles import OrganizationNames, Profile, author_profile
from paperfeed.search.profiles import organization_profile as find_organization
from paperfeed.store import Store
from paperfeed.web.charts import profile_chart
from paperfeed.web.security import engine_of, session_user, store_of
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_NAME_LENGTH = 300


def _checked(name: str, kind: str) -> str:
    if not name.strip():
        raise HTTPException(404, f"no {kind} name given")
    if len(name) > MAX_NAME_LENGTH:
        raise HTTPException(404, f"no {kind} has a name of {len(name)} characters")
    return name


def _page(request: Request, profile: Profile) -> HTMLResponse:
    store = store_of(request)
    return render(
        request,
        "profile.html",
        {
            "profile": profile,
            "chart": profile_chart(profile),
            "voted": votes.voted_ids(store, session_user(request), list(profile.papers)),
        },
        shown=list(profile.papers),
    )


@router.get("/authors/{name:path}", response_class=HTMLResponse)
def author_page(request: Request, name: str) -> HTMLResponse:
    engine = engine_of(request)
    profile = author_profile(store_of(request), _checked(name, "author"), engine.lexical)
    if profile is None:
        raise HTTPException(404, f"no author named {name!r} in this paperfeed")
    return _page(request, profile)


@router.get("/organizations/{name:path}", response_class=HTMLResponse)
def organization_page(request: Request, name: str) -> HTMLResponse:
    profile = find_organization(store_of(request), _checked(name, "organisation"))
    if profile is None:
        raise HTTPException(404, f"no organisation named {name!r} in this paperfeed")
    return _page(request, profile)


def install(app: FastAPI, store: Store) -> None:
    """Add the pages and the ``organization_name`` template filter."""
    names = OrganizationNames(store)
    environment = app.state.templates.env
    environment.filters["organization_name"] = names.display
    app.include_router(router)
