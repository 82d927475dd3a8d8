# One image for every service; the container's command picks which one runs, e.g.
#   socialops-ingest serve --host 0.0.0.0 --port 8080
# (docker-compose.yml sets it per service). Default: SERVICE=ingest on PORT=8080.
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SERVICE=ingest \
    PORT=8080

WORKDIR /app

# Dependencies first (pinned by constraints.txt), so that code changes rebuild only the last layers.
COPY constraints.txt ./
COPY libs/common/pyproject.toml libs/common/pyproject.toml
COPY libs/common/src libs/common/src
COPY services services
RUN pip install -c constraints.txt ./libs/common \
    && for service in ingest moderation sla archive console; do \
         if [ -f "services/$service/pyproject.toml" ]; then pip install -c constraints.txt "./services/$service"; fi; \
       done

COPY config config

RUN useradd --system --uid 10001 --home-dir /var/lib/socialops --create-home socialops
USER socialops
ENV SOCIALOPS_ACCOUNTS_FILE=/app/config/accounts.yaml

EXPOSE 8080 8081 8082 8083
# Alive = the HTTP server answers; compose adds readiness (broker, database) per service.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"

CMD ["sh", "-c", "exec socialops-$SERVICE serve --host 0.0.0.0 --port $PORT"]
