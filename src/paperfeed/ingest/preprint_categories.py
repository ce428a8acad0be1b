"""bioRxiv's and medRxiv's subject categories, and how ``cat:`` spells them.

A category is written ``<server>.<subject>``, lower case, spaces as hyphens:
``biorxiv.neuroscience``, ``biorxiv.cancer-biology``, ``medrxiv.infectious-diseases``
(``_`` is accepted for ``-``). The subject lists are the ones each site offers to
browse (https://www.biorxiv.org, https://www.medrxiv.org, "Subject Areas"); a category
outside them is refused, naming the value, as an unknown arXiv category is.
"""

from __future__ import annotations

import re

_PARENTHESIS = re.compile(r"\([^)]*\)")

# each site's subjects, ";"-separated
_SUBJECT_LISTS: dict[str, str] = {
    "biorxiv": (
        "animal behavior and cognition; biochemistry; bioengineering; bioinformatics; "
        "biophysics; cancer biology; cell biology; clinical trials; developmental biology; "
        "ecology; epidemiology; evolutionary biology; genetics; genomics; immunology; "
        "microbiology; molecular biology; neuroscience; paleontology; pathology; pharmacology "
        "and toxicology; physiology; plant biology; scientific communication and education; "
        "synthetic biology; systems biology; zoology "
    ),
    "medrxiv": (
        "addiction medicine; allergy and immunology; anesthesia; cardiovascular medicine; "
        "dentistry and oral medicine; dermatology; emergency medicine; endocrinology; "
        "epidemiology; forensic medicine; gastroenterology; genetic and genomic medicine; "
        "geriatric medicine; health economics; health informatics; health policy; health "
        "systems and quality improvement; hematology; hiv aids; infectious diseases; intensive "
        "care and critical care medicine; medical education; medical ethics; nephrology; "
        "neurology; nursing; nutrition; obstetrics and gynecology; occupational and "
        "environmental health; oncology; ophthalmology; orthopedics; otolaryngology; pain "
        "medicine; palliative medicine; pathology; pediatrics; pharmacology and therapeutics; "
        "primary care research; psychiatry and clinical psychology; public and global health; "
        "radiology and imaging; rehabilitation medicine and physical therapy; respiratory "
        "medicine; rheumatology; sexual and reproductive health; sports medicine; surgery; "
        "toxicology; transplantation; urology "
    ),
}
_SUBJECTS = {
    server: tuple(name.strip() for name in text.split(";"))
    for server, text in _SUBJECT_LISTS.items()
}


def _slug(subject: str) -> str:
    # "HIV/AIDS", "Pharmacology & Toxicology" and medRxiv's "Infectious Diseases (except
    # HIV/AIDS)" as the sites write them
    cleaned = _PARENTHESIS.sub(" ", subject).strip().lower().replace("&", "and")
    cleaned = cleaned.replace("/", " ").replace("_", " ")
    return "-".join(cleaned.replace("-", " ").split())


CATEGORIES: frozenset[str] = frozenset(
    f"{server}.{_slug(subject)}" for server, subjects in _SUBJECTS.items() for subject in subjects
)


def category_tag(server: str, subject: str) -> str:
    """The category of a record: ``category_tag("bioRxiv", "Cancer Biology")`` is
    ``"biorxiv.cancer-biology"``."""
    return f"{server.strip().lower()}.{_slug(subject)}"


def normalize_category(value: str) -> str:
    """``bioRxiv.Cancer_Biology`` → ``biorxiv.cancer-biology`` (``:`` accepted for ``.``)."""
    server, _, subject = value.strip().replace(":", ".", 1).partition(".")
    return category_tag(server, subject) if subject else value.strip().lower()


def is_preprint_category(value: str) -> bool:
    """Whether ``value`` names a bioRxiv/medRxiv category at all (known or not)."""
    return value.strip().lower().replace(":", ".", 1).split(".", 1)[0] in _SUBJECTS


def check_preprint_categories(categories: tuple[str, ...], setting: str) -> None:
    """Raise ``ValueError`` naming the first category neither server has."""
    for category in categories:
        if normalize_category(category) not in CATEGORIES:
            raise ValueError(
                f"unknown bioRxiv/medRxiv category {category!r} in {setting} "
                "(expected e.g. biorxiv.neuroscience or medrxiv.infectious-diseases)"
            )
