"""Reading one ``PAPERFEED_*`` value: its parsing and checks, and the error naming it.

``config.Settings.from_environment`` reads every setting with these; each refuses a
value it cannot use with a ``SettingsError`` that names the variable and the value.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from email.utils import formataddr


class SettingsError(ValueError):
    """A ``PAPERFEED_*`` variable holds a value that cannot be used."""


def read_float(environ: Mapping[str, str], key: str, default: float) -> float:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a number") from None
    if not math.isfinite(value):  # "nan", "inf", "1e400": no setting means any of them
        raise SettingsError(f"{key}={raw!r} is not a finite number")
    return value


def read_int(
    environ: Mapping[str, str], key: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{key}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{key}={raw!r} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{key}={raw!r} must be at most {maximum}")
    return value


def read_bool(environ: Mapping[str, str], key: str, default: bool) -> bool:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{key}={raw!r} is not a yes/no value (expected true or false)")


def read_embed_max_tokens(environ: Mapping[str, str]) -> int:
    value = read_int(environ, "PAPERFEED_EMBED_MAX_TOKENS", 0)
    if 0 < value < 8:
        raise SettingsError(
            f"PAPERFEED_EMBED_MAX_TOKENS={value} is too short (0 for the model's window, or >= 8)"
        )
    return value


def read_positive(environ: Mapping[str, str], key: str, default: float) -> float:
    value = read_float(environ, key, default)
    if value <= 0:
        raise SettingsError(f"{key}={environ.get(key)!r} must be a positive number")
    return value


def read_not_negative(environ: Mapping[str, str], key: str, default: float) -> float:
    value = read_float(environ, key, default)
    if value < 0:
        raise SettingsError(f"{key}={environ.get(key)!r} must not be negative")
    return value


def read_url(environ: Mapping[str, str], key: str, default: str) -> str:
    """An http(s) URL; set but empty means "off" (returned as "")."""
    raw = environ.get(key)
    if raw is None:
        return default
    value = raw.strip()
    if value and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{key}={raw!r} is not an http(s) URL (or empty, to turn it off)")
    return value


def read_words(environ: Mapping[str, str], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Space- or comma-separated names, e.g. ``cs.CL cs.LG``."""
    raw = environ.get(key)
    if raw is None:
        return default
    return tuple(word for word in raw.replace(",", " ").split() if word)


def read_networks(environ: Mapping[str, str], key: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks, each checked."""
    networks = []
    for part in (environ.get(key) or "").split(","):
        if not part.strip():
            continue
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise SettingsError(
                f"{key}: {part.strip()!r} is not an IP address or network "
                "(expected e.g. 127.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def read_choice(environ: Mapping[str, str], key: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (case-insensitive); unset or empty gives the first."""
    value = (environ.get(key) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{key}={environ.get(key)!r} is not one of {', '.join(choices)}")
    return value


# Argon2id's cost as (memory in KiB, passes, lanes): argon2-cffi's defaults, RFC 9106's
# second recommended set (section 4), written as a stored hash writes them: m=65536,t=3,p=4
ARGON2_DEFAULT = (65536, 3, 4)
_ARGON2_NAMES = {"m": "memory in KiB", "t": "passes", "p": "lanes"}
ARGON2_MOST_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB: more would be a typo


def read_argon2_parameters(environ: Mapping[str, str], key: str) -> tuple[int, int, int]:
    """``m=KiB,t=passes,p=lanes`` (any of them, any order; the others keep their default)."""
    raw = environ.get(key)
    if raw is None or not raw.strip():
        return ARGON2_DEFAULT
    values = dict(zip(_ARGON2_NAMES, ARGON2_DEFAULT, strict=True))
    for part in raw.split(","):
        name, equals, number = (piece.strip() for piece in part.partition("="))
        if name not in values or not equals:
            raise SettingsError(
                f"{key}={raw!r}: {part.strip()!r} is not m=<memory in KiB>, t=<passes> or "
                "p=<lanes> (e.g. m=65536,t=3,p=4)"
            )
        if not re.fullmatch("[0-9]{1,10}", number) or int(number) < 1:
            raise SettingsError(
                f"{key}={raw!r}: {name} ({_ARGON2_NAMES[name]}) must be a whole number >= 1"
            )
        values[name] = int(number)
    memory, passes, lanes = values["m"], values["t"], values["p"]
    if lanes > 255:
        raise SettingsError(f"{key}={raw!r}: p (lanes) must be at most 255")
    if memory < 8 * lanes:  # Argon2's own floor (RFC 9106, section 3.1)
        raise SettingsError(f"{key}={raw!r}: m must be at least 8 KiB a lane ({8 * lanes})")
    if memory > ARGON2_MOST_MEMORY_KIB:
        raise SettingsError(
            f"{key}={raw!r}: m must be at most {ARGON2_MOST_MEMORY_KIB} KiB (4 GiB a hash)"
        )
    return memory, passes, lanes


# "Name <local@domain>" or "local@domain": a dot-atom local part and a host name
_MAIL_FROM = re.compile(r"^\s*(?:(?P<name>[^<>]*?)\s*<(?P<inner>[^<>]*)>|(?P<bare>[^<>]*?))\s*$")
_MAIL_FROM_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*$"
)


def read_mail_from(raw: str) -> str:
    """The From header of every mail, written so that a name with a comma or quotes
    (``Papers, Inc <p@example.org>``) stays one mailbox; a line break, or no address
    to send from, is refused naming the value."""
    text = raw or "paperfeed <paperfeed@localhost>"
    if any(character in text for character in "\r\n\x00"):
        raise SettingsError(f"PAPERFEED_MAIL_FROM={text!r} contains a line break")
    found = _MAIL_FROM.match(text)
    address = (found.group("inner") or found.group("bare") or "").strip() if found else ""
    if not _MAIL_FROM_ADDRESS.match(address):
        raise SettingsError(
            f"PAPERFEED_MAIL_FROM={text!r} is not an address to send from "
            "(expected e.g. Daily Papers <papers@example.org> or papers@example.org)"
        )
    name = (found.group("name") or "").strip() if found else ""
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        name = name[1:-1].replace('\\"', '"')
    return formataddr((name, address)) if name else address
