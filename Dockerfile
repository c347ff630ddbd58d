# sccm-triage Slack app. Build: docker build -t sccm-triage .
# Run (Socket Mode): docker run -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN sccm-triage
# Run (HTTP):        docker run -p 3000:3000 -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET sccm-triage sccm serve --http
#
# The base image is pinned to an exact Python release; raise it on purpose (and let the
# test suite's install test run) rather than drifting with python:3.11-slim.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts/install-from-wheels.sh ./scripts/
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
# Wheels only, no compiler in this image: the very script tests/test_install.py runs in a
# fresh venv with no compiler on PATH.
RUN sh scripts/install-from-wheels.sh python

# A non-root user; feedback is kept in /data (mount a volume there to keep it). Compiled
# Hyperscan databases are a cache, not data: they live in the image's own folder, so the
# volume holds only what is worth keeping, and a new image never reads an old build's.
RUN useradd --system --uid 10001 --home-dir /data --create-home sccm \
    && mkdir -p /var/cache/sccm \
    && chown sccm /var/cache/sccm
USER sccm
WORKDIR /data
ENV SCCM_BOT_FEEDBACK_DB=/data/sccm-feedback.sqlite3 \
    XDG_CACHE_HOME=/var/cache/sccm

# /healthz answers on this port in both modes (in Socket Mode: 200 while connected).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]

# `docker stop` sends SIGTERM, then SIGKILL after 10 s unless given more (-t / stop_grace_period):
# keep SCCM_BOT_STOP_SECONDS below that.
STOPSIGNAL SIGTERM
CMD ["sccm", "serve"]
