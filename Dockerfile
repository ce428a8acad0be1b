# paperfeed as a container: the site, the JSON API, the feeds, and (with
# PAPERFEED_SYNC_INTERVAL_MINUTES / PAPERFEED_DIGEST_HOUR) the sync and digest schedule.
# The embedding model ships inside the package (src/paperfeed/data/models), so the image
# needs no download at start. Build: docker build -t paperfeed .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtual environment with paperfeed and its PostgreSQL driver ---------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/paperfeed
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/paperfeed/bin/pip install ".[postgres]" \
    && /opt/paperfeed/bin/python -c "import paperfeed.index.embedder"

# -- run: the same base, the environment only, a user without privileges -----------------
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 paperfeed \
    && useradd --system --uid 10001 --gid paperfeed --home-dir /var/lib/paperfeed \
       --shell /usr/sbin/nologin paperfeed \
    && mkdir -p /var/lib/paperfeed \
    && chown paperfeed:paperfeed /var/lib/paperfeed
COPY --from=build /opt/paperfeed /opt/paperfeed
ENV PATH=/opt/paperfeed/bin:$PATH \
    PAPERFEED_HOME=/var/lib/paperfeed \
    PYTHONUNBUFFERED=1
USER paperfeed
WORKDIR /var/lib/paperfeed
VOLUME ["/var/lib/paperfeed"]
EXPOSE 8000
# /healthz: the process answers (no database, no index), so a slow database never gets a
# healthy container restarted; a load balancer asks /readyz
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["paperfeed", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
