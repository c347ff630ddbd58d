# sccm-triage Slack app. Build: docker build -t sccm-triage .
# Run (Socket Mode): docker run -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN sccm-triage
# Run (HTTP):        docker run -p 3000:3000 -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET sccm-triage sccm serve --http
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
RUN pip install . && rm -rf /app/build

# A non-root user; feedback is kept in /data (mount a volume there to keep it).
RUN useradd --system --uid 10001 --home-dir /data --create-home sccm
USER sccm
WORKDIR /data
ENV SCCM_BOT_FEEDBACK_DB=/data/sccm-feedback.sqlite3

# /healthz answers on this port in both modes (in Socket Mode: 200 while connected).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]

CMD ["sccm", "serve"]
