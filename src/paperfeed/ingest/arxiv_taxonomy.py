"""arXiv's category taxonomy and OAI-PMH sets, to refuse a misspelt category or set early.

From https://arxiv.org/category_taxonomy (each archive is an OAI-PMH set; the physics
archives are sub-sets of ``physics``, e.g. ``physics:hep-th``). Old archive names that
arXiv merged (``cmp-lg``, ``adap-org``...) still appear on old papers but are not
followed: they take no new submissions.
"""

from __future__ import annotations

_GROUPS: dict[str, str] = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM "
    "MS NA NE NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR "
    "QA RA RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
    "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph "
    "space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
# archives without subject classes
_SINGLE = ("gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th",
           "quant-ph")  # fmt: skip

CATEGORIES: frozenset[str] = frozenset(
    [
        f"{archive}.{subject}"
        for archive, subjects in _GROUPS.items()
        for subject in subjects.split()
    ]
    + list(_SINGLE)
)

# physics archives are sets under "physics"; the others are top-level sets
_PHYSICS_ARCHIVES = ("astro-ph", "cond-mat", "nlin", "physics", *_SINGLE)
SETS: frozenset[str] = frozenset(
    ["cs", "econ", "eess", "math", "q-bio", "q-fin", "stat", "physics"]
    + [f"physics:{archive}" for archive in _PHYSICS_ARCHIVES]
)


def check_categories(categories: tuple[str, ...], setting: str) -> None:
    """Raise ``ValueError`` naming the first category arXiv does not have.

    Args:
        categories: e.g. ``("cs.CL", "cs.LG")``.
        setting: the setting they came from, for the message.
    """
    for category in categories:
        if category not in CATEGORIES:
            close = sorted(name for name in CATEGORIES if name.lower() == category.lower())
            hint = f"did you mean {close[0]}?" if close else "expected e.g. cs.LG or stat.ML"
            raise ValueError(f"unknown arXiv category {category!r} in {setting} ({hint})")


def check_sets(sets: tuple[str, ...], setting: str) -> None:
    """Raise ``ValueError`` naming the first set arXiv's OAI-PMH interface does not have."""
    if not sets:
        raise ValueError(f"{setting} is empty (expected e.g. cs, or cs math)")
    for name in sets:
        if name not in SETS:
            raise ValueError(
                f"unknown arXiv OAI-PMH set {name!r} in {setting} "
                "(expected e.g. cs, math, stat, physics:hep-th)"
            )
