"""Settings read from ``PAPERFEED_*`` environment variables: the one place paths are decided."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from paperfeed.setting_values import (
    ARGON2_DEFAULT,
    read_argon2_parameters,
    read_bool,
    read_choice,
    read_embed_max_tokens,
    read_float,
    read_int,
    read_mail_from,
    read_networks,
    read_not_negative,
    read_positive,
    read_url,
    read_words,
)
from paperfeed.setting_values import SettingsError as SettingsError

_secret_keys: dict[Path, str] = {}


def secret_key_of(settings: Settings) -> str:
    """The configured secret key, or one made on first use and kept in ``home/secret_key``.

    The file is created with mode 0600 so other users of the machine cannot forge sessions.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.home / "secret_key"
    known = _secret_keys.get(path)
    if known is not None:
        return known  # every signed link asks: read the file once per process
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        draft = settings.home / f"secret_key.{os.getpid()}.tmp"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        # link() is atomic and refuses to replace: concurrent first starts agree on one key.
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = _secret_keys[path] = path.read_text().strip()
    return key


DEFAULT_BASE_URL = "http://127.0.0.1:8000"
FUSION_METHODS = ("calibrated", "weighted", "rrf")
# arXiv's OAI-PMH base URL as https://info.arxiv.org/help/oa/index.html gives it
DEFAULT_ARXIV_OAI_URL = "https://oaipmh.arxiv.org/oai"
DEFAULT_DAILY_PAPERS_URL = "https://huggingface.co"
# the bioRxiv/medRxiv API (https://api.biorxiv.org) and arXiv's daily listing feeds
DEFAULT_BIORXIV_API_URL = "https://api.biorxiv.org"
DEFAULT_ARXIV_RSS_URL = "https://rss.arxiv.org"
BIORXIV_SERVERS = ("biorxiv", "medrxiv")
VECTOR_BACKENDS = ("in-process", "pgvector")
EMBED_PROVIDERS = ("cpu", "cuda")
SMTP_SECURITY = ("none", "starttls", "tls")
# who may sign up: anyone, holders of an admin's invite link, or nobody (admins make
# accounts with `paperfeed users create`)
SIGNUP_POLICIES = ("open", "invite", "closed")
LOG_FORMATS = ("text", "json")
# uvicorn's event loop and HTTP parser; "auto": uvloop and httptools where installed
SERVER_LOOPS = ("auto", "asyncio", "uvloop")
SERVER_HTTP_PARSERS = ("auto", "h11", "httptools")


# One source's run of ``paperfeed sync`` stops when it has spent either (what it stored
# stays stored; the next run carries on). A first arXiv week is ~20 requests.
DEFAULT_SYNC_BUDGET_MINUTES = 120.0
DEFAULT_SYNC_MAX_REQUESTS = 10_000


@dataclass(frozen=True)
class Settings:
    """Everything configurable about a paperfeed installation.

    Attributes:
        home: folder holding the SQLite database and the index files.
        database_url: SQLAlchemy URL; SQLite under ``home`` unless set.
        index_dir: folder of the lexical and vector index files.
        embed_model: embedding model spec (see ``paperfeed.index.embedder``).
        embed_batch_size: texts per embedding batch (one committed unit of work).
        embed_threads: CPU threads for the embedding runtime; 0 means all cores.
        embed_max_tokens: truncate texts to this many tokens before embedding (ONNX
            models); 0 means the model's own window (256 for the bundled MiniLM).
        embed_spinning: let idle embedding threads spin for work (onnxruntime
            ``allow_spinning``); off, they sleep between calls and burn no CPU.
        query_cache_size: query embeddings kept per process (LRU by text); 0 turns it off.
        query_threads: CPU threads that embed one search query (0: all cores); 1 costs the
            least CPU per query, which is what a server with several workers wants.
        title_weight: BM25F weight of the title field relative to the abstract.
        fusion: how lexical and dense evidence are combined: ``calibrated`` (the
            default, see ``search.fusion``), ``weighted`` (min-max) or ``rrf``.
        dense_weight: share of the dense ranking in ``weighted`` and ``rrf`` fusion, 0..1.
        min_similarity: the relevance floor: when no paper matches a query's words and
            no cosine reaches this, the search answers "no close match".
        exact_search_limit: below this many vectors the dense search is exact.
        hnsw_ef_search: HNSW search breadth above that (more: better recall, slower).
        trending_half_life_hours: hours after which a vote counts half in trending.
        secret_key: signs session cookies and links; empty means "made once and kept
            in ``home/secret_key``" (see ``secret_key_of``).
        secure_cookies: send the session cookie over HTTPS only (set behind TLS).
        base_url: the site's public address, for links in feeds and mails; when
            unset, ``paperfeed serve`` uses the address it listens on.
        base_url_configured: whether ``PAPERFEED_BASE_URL`` was given (else
            ``base_url`` is a guess, and commands that mail links say so).
        trusted_proxies: addresses or networks of reverse proxies whose
            ``X-Forwarded-For`` names the client; empty trusts no header.
        arxiv_api_url: where submissions of papers not yet stored are looked up;
            empty turns the look-up off (offline installs).
        smtp_host: mail server for digests and confirmations; empty prints each mail
            to the console instead (development).
        smtp_port, smtp_security, smtp_user, smtp_password: how to reach it;
            security is ``none``, ``starttls`` or ``tls`` (implicit TLS, port 465).
        smtp_ca_file: extra CA certificates (PEM) to trust for a private mail relay;
            the server's certificate is always verified.
        mail_from: the From address of every mail.
        digest_hour: local hour (0..23) at which ``paperfeed serve`` sends each
            subscriber's digest; None leaves sending to ``paperfeed digest send``.
        page_cache_seconds: how long a page rendered for anonymous visitors is
            served again as it is (0 turns the cache off).
        server_threads: requests each server worker computes at once (its thread pool
            for the pages and API answers; 0: the framework's default of 40). 2: the
            GIL runs one at a time anyway, and 40 taking turns stretched the slowest.
        server_loop, server_http: uvicorn's event loop (``asyncio`` or ``uvloop``) and
            HTTP parser (``h11`` or ``httptools``); ``auto`` takes the faster ones when
            installed (``pip install uvloop httptools``).
        arxiv_oai_url: arXiv's OAI-PMH base URL; empty turns the arXiv sync off.
        arxiv_sets: OAI-PMH sets harvested (``cs``, ``math``, ``physics:hep-th``...).
        arxiv_categories: the categories followed; a harvested paper in none of them is
            skipped (empty: everything in the sets).
        daily_papers_url: base URL of a daily-papers site (the original, or another
            paperfeed) whose ``/api/daily_papers`` is followed; empty turns it off.
        daily_papers_refresh_days: how many recent days each sync fetches again, so
            upvotes and comment counts stay current.
        sync_interval_minutes: how often ``paperfeed serve`` syncs; None: never.
        sync_delay_seconds: pause between two requests to a source (politeness).
        sync_timeout_seconds: how long one request may take before it is retried.
        sync_retries: how many times a failed request (timeout, 5xx, 503) is retried.
        sync_backoff_seconds: the wait before the first retry; it doubles each time.
        sync_budget_minutes: wall time one source's run may take, waits included.
        sync_max_requests: requests one source's run may make, retries included.
        vector_backend: where dense search runs: ``in-process`` (index files each
            process loads) or ``pgvector`` (an HNSW index inside PostgreSQL).
        biorxiv_api_url: the bioRxiv/medRxiv details API (one service for both).
        biorxiv_servers: which of ``biorxiv`` and ``medrxiv`` are synced (empty: none).
        biorxiv_categories: their subject categories followed (``biorxiv.neuroscience``;
            empty: every category).
        arxiv_rss_url: arXiv's daily listing feeds (``{url}/rss/{archive}``), read for
            each day's new / cross-list / replacement announcements; empty: off.
        embed_provider: onnxruntime execution provider for embedding: ``cpu`` or
            ``cuda`` (extra ``gpu``; falls back to the CPU, saying so, without one).
        signup: who may sign up: ``open`` (anyone), ``invite`` (with an admin's invite
            link) or ``closed``.
        invite_days: how long a new invite link stays valid, in days.
        argon2_parameters: Argon2id's cost for new password hashes as (memory in KiB,
            passes, lanes), from ``m=65536,t=3,p=4`` (the default, RFC 9106's second
            recommended set); a hash made with others still verifies and is made again
            at its owner's next sign-in.
        log_format: ``text`` (one readable line per request or job) or ``json`` (one
            JSON object per line, for log shippers).
        ready_max_sync_age_hours: ``/readyz`` answers 503 when sync is configured and
            the last successful sync is older than this (None: the default of three
            sync intervals, at least one hour).
    """

    home: Path
    database_url: str
    index_dir: Path
    embed_model: str = "minilm"
    embed_batch_size: int = 32
    embed_threads: int = 0
    embed_max_tokens: int = 0
    embed_spinning: bool = False
    query_cache_size: int = 4096
    query_threads: int = 1
    title_weight: float = 2.0
    # Chosen by bench/quality.py --sweep on training splits (docs/benchmarks.md).
    fusion: str = "calibrated"
    dense_weight: float = 0.3
    # Calibrated on the bundled corpus (bench/quality.py, "relevance floor"): just above
    # the best cosine of 99% of nonsense queries (p99 0.315, max 0.337 of 300).
    min_similarity: float = 0.33
    # exact up to 50k vectors (a one-thread scan of 89k took 5-10 ms, HNSW ef=256 0.7-1 ms
    # at recall@10 0.97: docs/benchmarks.md)
    exact_search_limit: int = 50_000
    hnsw_ef_search: int = 256
    trending_half_life_hours: float = 48.0
    secret_key: str = ""
    secure_cookies: bool = False
    base_url: str = DEFAULT_BASE_URL
    base_url_configured: bool = False
    trusted_proxies: tuple[str, ...] = ()
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_ca_file: str = ""
    mail_from: str = "paperfeed <paperfeed@localhost>"
    digest_hour: int | None = None
    page_cache_seconds: float = 10.0
    server_threads: int = 2
    server_loop: str = "auto"
    server_http: str = "auto"
    arxiv_oai_url: str = DEFAULT_ARXIV_OAI_URL
    arxiv_sets: tuple[str, ...] = ("cs",)
    arxiv_categories: tuple[str, ...] = ()
    daily_papers_url: str = DEFAULT_DAILY_PAPERS_URL
    daily_papers_refresh_days: int = 3
    sync_interval_minutes: float | None = None
    sync_delay_seconds: float = 3.0
    sync_timeout_seconds: float = 60.0
    sync_retries: int = 4
    sync_backoff_seconds: float = 10.0
    sync_budget_minutes: float = DEFAULT_SYNC_BUDGET_MINUTES
    sync_max_requests: int = DEFAULT_SYNC_MAX_REQUESTS
    vector_backend: str = "in-process"
    embed_provider: str = "cpu"
    signup: str = "open"
    invite_days: float = 7.0
    argon2_parameters: tuple[int, int, int] = ARGON2_DEFAULT
    log_format: str = "text"
    ready_max_sync_age_hours: float | None = None
    # bioRxiv/medRxiv and arXiv's daily listing (issue 22)
    biorxiv_api_url: str = DEFAULT_BIORXIV_API_URL
    biorxiv_servers: tuple[str, ...] = ()
    biorxiv_categories: tuple[str, ...] = ()
    arxiv_rss_url: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        home = Path(env.get("PAPERFEED_HOME") or Path.home() / ".paperfeed").expanduser()
        if home.exists() and not home.is_dir():  # made on first use, so absent is fine
            raise SettingsError(f"PAPERFEED_HOME={str(home)!r} is a file, not a folder")
        database_url = env.get("PAPERFEED_DATABASE_URL") or f"sqlite:///{home / 'paperfeed.db'}"
        index_dir = Path(env.get("PAPERFEED_INDEX_DIR") or home / "index").expanduser()
        if index_dir.exists() and not index_dir.is_dir():
            raise SettingsError(f"PAPERFEED_INDEX_DIR={str(index_dir)!r} is a file, not a folder")
        fusion = read_choice(env, "PAPERFEED_FUSION", FUSION_METHODS)  # "RRF" is rrf
        dense_weight = read_float(env, "PAPERFEED_DENSE_WEIGHT", 0.3)
        min_similarity = read_float(env, "PAPERFEED_MIN_SIMILARITY", 0.33)
        if not -1.0 <= min_similarity <= 1.0:
            raise SettingsError(
                f"PAPERFEED_MIN_SIMILARITY={min_similarity!r} must be between -1 and 1"
            )
        if not 0.0 <= dense_weight <= 1.0:
            raise SettingsError(f"PAPERFEED_DENSE_WEIGHT={dense_weight!r} must be between 0 and 1")
        half_life = read_float(env, "PAPERFEED_TRENDING_HALF_LIFE_HOURS", 48.0)
        if half_life <= 0:
            raise SettingsError(
                f"PAPERFEED_TRENDING_HALF_LIFE_HOURS={half_life!r} must be positive"
            )
        base_url = env.get("PAPERFEED_BASE_URL") or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"PAPERFEED_BASE_URL={base_url!r} is not an http(s) URL "
                "(expected e.g. https://papers.example.org)"
            )
        smtp_security = (env.get("PAPERFEED_SMTP_SECURITY") or "none").lower()
        if smtp_security not in SMTP_SECURITY:
            raise SettingsError(
                f"PAPERFEED_SMTP_SECURITY={env.get('PAPERFEED_SMTP_SECURITY')!r} is not one of "
                f"{', '.join(SMTP_SECURITY)}"
            )
        digest_hour_text = env.get("PAPERFEED_DIGEST_HOUR") or ""
        digest_hour = (
            read_int(env, "PAPERFEED_DIGEST_HOUR", 0) if digest_hour_text.strip() else None
        )
        if digest_hour is not None and digest_hour > 23:
            raise SettingsError(f"PAPERFEED_DIGEST_HOUR={digest_hour_text!r} must be 0..23")
        vector_backend = (env.get("PAPERFEED_VECTOR_BACKEND") or "in-process").lower()
        if vector_backend not in VECTOR_BACKENDS:
            raise SettingsError(
                f"PAPERFEED_VECTOR_BACKEND={vector_backend!r} is not one of "
                f"{', '.join(VECTOR_BACKENDS)}"
            )
        if vector_backend == "pgvector" and not database_url.startswith("postgresql"):
            raise SettingsError(
                "PAPERFEED_VECTOR_BACKEND='pgvector' needs a PostgreSQL database "
                f"(PAPERFEED_DATABASE_URL is {database_url.split('://')[0] + '://...'!r})"
            )
        embed_provider = (env.get("PAPERFEED_EMBED_PROVIDER") or "cpu").lower()
        if embed_provider not in EMBED_PROVIDERS:
            raise SettingsError(
                f"PAPERFEED_EMBED_PROVIDER={embed_provider!r} is not one of "
                f"{', '.join(EMBED_PROVIDERS)}"
            )
        mail_from = read_mail_from(env.get("PAPERFEED_MAIL_FROM") or "")
        sync_interval = read_float(env, "PAPERFEED_SYNC_INTERVAL_MINUTES", 0.0)
        if sync_interval < 0:
            raise SettingsError(
                f"PAPERFEED_SYNC_INTERVAL_MINUTES={sync_interval!r} must not be negative"
            )
        signup = (env.get("PAPERFEED_SIGNUP") or "open").strip().lower()
        if signup not in SIGNUP_POLICIES:
            raise SettingsError(
                f"PAPERFEED_SIGNUP={env.get('PAPERFEED_SIGNUP')!r} is not one of "
                f"{', '.join(SIGNUP_POLICIES)}"
            )
        invite_days = read_positive(env, "PAPERFEED_INVITE_DAYS", 7.0)
        if invite_days > 3650:  # the longest an invite may last (administration.create_invite)
            raise SettingsError(
                f"PAPERFEED_INVITE_DAYS={env.get('PAPERFEED_INVITE_DAYS')!r} must be at most 3650"
            )
        for server in read_words(env, "PAPERFEED_BIORXIV_SERVERS", ()):
            if server.lower() not in BIORXIV_SERVERS:
                raise SettingsError(
                    f"PAPERFEED_BIORXIV_SERVERS: unknown server {server!r} "
                    f"(expected {' or '.join(BIORXIV_SERVERS)})"
                )
        return cls(
            home=home,
            database_url=database_url,
            index_dir=index_dir,
            embed_model=env.get("PAPERFEED_EMBED_MODEL") or "minilm",
            embed_batch_size=read_int(env, "PAPERFEED_EMBED_BATCH_SIZE", 32, minimum=1),
            embed_threads=read_int(env, "PAPERFEED_EMBED_THREADS", 0),
            embed_max_tokens=read_embed_max_tokens(env),
            embed_spinning=read_bool(env, "PAPERFEED_EMBED_SPINNING", False),
            query_cache_size=read_int(env, "PAPERFEED_QUERY_CACHE_SIZE", 4096),
            query_threads=read_int(env, "PAPERFEED_QUERY_THREADS", 1),
            title_weight=read_not_negative(env, "PAPERFEED_TITLE_WEIGHT", 2.0),
            fusion=fusion,
            dense_weight=dense_weight,
            min_similarity=min_similarity,
            exact_search_limit=read_int(env, "PAPERFEED_EXACT_SEARCH_LIMIT", 50_000),
            hnsw_ef_search=read_int(env, "PAPERFEED_HNSW_EF_SEARCH", 256, minimum=1),
            trending_half_life_hours=half_life,
            secret_key=env.get("PAPERFEED_SECRET_KEY") or "",
            secure_cookies=read_bool(env, "PAPERFEED_SECURE_COOKIES", False),
            base_url=base_url.rstrip("/"),
            base_url_configured=bool(env.get("PAPERFEED_BASE_URL")),
            trusted_proxies=read_networks(env, "PAPERFEED_TRUSTED_PROXIES"),
            arxiv_api_url=read_url(
                env, "PAPERFEED_ARXIV_API_URL", "https://export.arxiv.org/api/query"
            ),
            smtp_host=(env.get("PAPERFEED_SMTP_HOST") or "").strip(),
            smtp_port=read_int(
                env,
                "PAPERFEED_SMTP_PORT",
                465 if smtp_security == "tls" else 25,
                minimum=1,
                maximum=65535,
            ),
            smtp_security=smtp_security,
            smtp_user=env.get("PAPERFEED_SMTP_USER") or "",
            smtp_password=env.get("PAPERFEED_SMTP_PASSWORD") or "",
            smtp_ca_file=env.get("PAPERFEED_SMTP_CA_FILE") or "",
            mail_from=mail_from,
            digest_hour=digest_hour,
            page_cache_seconds=read_not_negative(env, "PAPERFEED_PAGE_CACHE_SECONDS", 10.0),
            server_threads=read_int(env, "PAPERFEED_SERVER_THREADS", 2),
            server_loop=read_choice(env, "PAPERFEED_SERVER_LOOP", SERVER_LOOPS),
            server_http=read_choice(env, "PAPERFEED_SERVER_HTTP", SERVER_HTTP_PARSERS),
            arxiv_oai_url=read_url(env, "PAPERFEED_ARXIV_OAI_URL", DEFAULT_ARXIV_OAI_URL),
            arxiv_sets=read_words(env, "PAPERFEED_ARXIV_SETS", ("cs",)),
            arxiv_categories=read_words(env, "PAPERFEED_ARXIV_CATEGORIES", ()),
            daily_papers_url=read_url(
                env, "PAPERFEED_DAILY_PAPERS_URL", DEFAULT_DAILY_PAPERS_URL
            ).rstrip("/"),
            daily_papers_refresh_days=read_int(
                env, "PAPERFEED_DAILY_PAPERS_REFRESH_DAYS", 3, minimum=1
            ),
            sync_interval_minutes=sync_interval or None,
            sync_delay_seconds=read_not_negative(env, "PAPERFEED_SYNC_DELAY_SECONDS", 3.0),
            sync_timeout_seconds=read_positive(env, "PAPERFEED_SYNC_TIMEOUT_SECONDS", 60.0),
            sync_retries=read_int(env, "PAPERFEED_SYNC_RETRIES", 4),
            sync_backoff_seconds=read_not_negative(env, "PAPERFEED_SYNC_BACKOFF_SECONDS", 10.0),
            sync_budget_minutes=read_positive(
                env, "PAPERFEED_SYNC_BUDGET_MINUTES", DEFAULT_SYNC_BUDGET_MINUTES
            ),
            sync_max_requests=read_int(
                env, "PAPERFEED_SYNC_MAX_REQUESTS", DEFAULT_SYNC_MAX_REQUESTS, minimum=1
            ),
            vector_backend=vector_backend,
            embed_provider=embed_provider,
            signup=signup,
            invite_days=invite_days,
            argon2_parameters=read_argon2_parameters(env, "PAPERFEED_ARGON2_PARAMETERS"),
            log_format=read_choice(env, "PAPERFEED_LOG_FORMAT", LOG_FORMATS),
            ready_max_sync_age_hours=(
                read_positive(env, "PAPERFEED_READY_MAX_SYNC_AGE_HOURS", 1.0)
                if env.get("PAPERFEED_READY_MAX_SYNC_AGE_HOURS")
                else None
            ),
            biorxiv_api_url=read_url(
                env, "PAPERFEED_BIORXIV_API_URL", DEFAULT_BIORXIV_API_URL
            ).rstrip("/"),
            biorxiv_servers=tuple(
                name.lower() for name in read_words(env, "PAPERFEED_BIORXIV_SERVERS", ())
            ),
            biorxiv_categories=read_words(env, "PAPERFEED_BIORXIV_CATEGORIES", ()),
            # the listing follows arXiv itself: a site pointed at a mirror or a test server
            # for OAI-PMH names its listing too, or has none
            arxiv_rss_url=read_url(
                env,
                "PAPERFEED_ARXIV_RSS_URL",
                DEFAULT_ARXIV_RSS_URL
                if env.get("PAPERFEED_ARXIV_OAI_URL") in (None, DEFAULT_ARXIV_OAI_URL)
                else "",
            ).rstrip("/"),
        )
