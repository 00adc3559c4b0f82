# hybridcost: dashboard, collectors, exporter and reports in one image.
# Build: docker build -t hybridcost .            (add --build-arg WITH_CHROMIUM=true for PDF export)
FROM python:3.12-slim

ARG WITH_CHROMIUM=false

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XDG_RUNTIME_DIR=/tmp \
    HYBRIDCOST_DATA_DIR=/var/lib/hybridcost \
    HYBRIDCOST_RUNTIME_DIR=/run/hybridcost

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Chromium (and fonts) only when asked: it is large and only PDF export needs it.
# Debian's security updates move these versions, so they are not pinned.
# hadolint ignore=DL3008
RUN if [ "$WITH_CHROMIUM" = "true" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 hybridcost \
    && useradd --system --uid 10001 --gid hybridcost --home-dir /home/hybridcost --create-home \
        --shell /usr/sbin/nologin hybridcost \
    && install -d -o hybridcost -g hybridcost -m 0700 /var/lib/hybridcost /run/hybridcost \
    && install -d -o hybridcost -g hybridcost -m 0750 /reports

WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY ingest ./ingest
COPY models ./models
COPY migrations ./migrations
RUN pip install . && rm -rf /src

WORKDIR /home/hybridcost
USER 10001:10001

EXPOSE 8501 9464
VOLUME ["/var/lib/hybridcost"]

# The dashboard's own health endpoint; other services in docker-compose.yml turn this off.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

ENTRYPOINT ["hybridcost"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8501"]
