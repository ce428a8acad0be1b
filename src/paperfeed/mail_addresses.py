"""The one spelling of an email address: what sign-up, sign-in, resets and subscriptions key on.

Several spellings reach one inbox: the domain's case (RFC 5321 §2.4: domains are
case-insensitive), a trailing dot (the root of the DNS, RFC 1034 §3.1), an
internationalised domain in Unicode or in its IDNA ("xn--") form (RFC 5890), and a
local part in quotes when it needs none (RFC 5322 §3.4.1: ``"x"@example.org`` is
``x@example.org``). Each is brought to one form here, so a per-inbox cap or a unique
address cannot be dodged by respelling it (issue 19 item 9). The local part is also
lower-cased: RFC 5321 lets a server tell cases apart, but no mainstream one does, and
two accounts for ``Ada@`` and ``ada@`` would be a trap. Imports nothing of ours but
``quoted``, so every layer may use it.
"""

from __future__ import annotations

import re

from paperfeed.ingest import quoted
from paperfeed.typed_text import unwritable_character

MAX_ADDRESS_LENGTH = 320
MAX_LOCAL_LENGTH = 64
# RFC 5322 §3.2.3 "atext" plus dots: what a local part may hold without quotes.
_DOT_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_SPACE = re.compile(r"\s")
# A host name's label (RFC 1123 letters, digits, hyphens; underscores as some DNS names
# have): no <, >, comma, parenthesis or bracket, which would be address syntax in a header.
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")


class AddressError(ValueError):
    """Not an address this site accepts; the message names the value given."""


def _not_an_address(value: str, why: str = "") -> AddressError:
    reason = f": {why}" if why else " (expected name@example.org)"
    return AddressError(f"email {quoted(value)} is not an email address{reason}")


def _local_part(value: str, local: str) -> str:
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        # a quoted local part: undo the quoting (backslash escapes a character)
        inner = re.sub(r"\\(.)", r"\1", local[1:-1])
        if not _DOT_ATOM.match(inner):
            raise _not_an_address(
                value, "a quoted name with spaces or special characters is not accepted here"
            )
        local = inner
    if not local or len(local) > MAX_LOCAL_LENGTH or not _DOT_ATOM.match(local):
        # ',', '<', '>', '(', ';', ':' or '\\' unquoted make a To header name other
        # mailboxes than this one ("bob,eve@evil.org" is two)
        raise _not_an_address(value)
    return local.lower()


def _domain(value: str, domain: str) -> str:
    domain = domain.lower()
    if domain.endswith("."):
        domain = domain[:-1]  # the DNS root: "example.org." is "example.org"
    if not domain.isascii():
        try:
            # Python's "idna" codec (RFC 3490 with nameprep: case folding, NFKC, the
            # ideographic full stops as dots): "bücher.example" -> "xn--bcher-kva.example"
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise _not_an_address(value, "its domain is not a valid host name") from None
    labels = domain.split(".")
    if len(labels) < 2 or any(not _LABEL.match(label) for label in labels):
        raise _not_an_address(value)
    return domain


def canonical_address(value: str) -> str:
    """The one form of an address that keys accounts, resets and subscriptions.

    ``x@EXAMPLE.org.``, ``"x"@example.org`` and ``x@bücher.example`` become
    ``x@example.org``, ``x@example.org`` and ``x@xn--bcher-kva.example``.

    Raises:
        AddressError: a line break or control character, no ``@``, a space, an empty
            or invalid domain, a quoted name needing its quotes, or too long.
    """
    problem = unwritable_character(value)
    if problem:
        raise AddressError(f"email {quoted(value)} contains {problem}")
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or _SPACE.search(text) or len(text) > 4 * MAX_ADDRESS_LENGTH:
        raise _not_an_address(value)
    if "@" in local and not (local.startswith('"') and local.endswith('"')):
        raise _not_an_address(value)
    address = f"{_local_part(value, local)}@{_domain(value, domain)}"
    if len(address) > MAX_ADDRESS_LENGTH:
        raise _not_an_address(value, f"{len(address)} characters (at most {MAX_ADDRESS_LENGTH})")
    return address


def inbox_of(value: str) -> str:
    """The inbox an address reaches, for per-inbox caps on mail: its canonical form
    without a ``+tag`` (``Ada+x@Example.org.`` and ``ada@example.org`` are one inbox).
    Text that is no address is keyed by itself, trimmed and lower-cased, so it is
    still counted."""
    try:
        address = canonical_address(value)
    except AddressError:
        return value.strip().lower()[:MAX_ADDRESS_LENGTH]
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def address_key(value: str) -> str:
    """The canonical address, or (for text that is none) the text trimmed and
    lower-cased: a key for counting attempts that never fails."""
    try:
        return canonical_address(value)
    except AddressError:
        return value.strip().lower()[:MAX_ADDRESS_LENGTH]
