# htxbot: one process runs every channel that has a token (`htxbot run`), behind one web server on 8080.
# Build: docker build -t htxbot .      Run the same commands as in the README: docker run … htxbot <command>
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN groupadd --system --gid 10001 htxbot \
 && useradd --system --uid 10001 --gid htxbot --home-dir /data --no-create-home htxbot \
 && mkdir -p /data && chown htxbot:htxbot /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY --chown=root:root knowledge /app/knowledge
ENV HTXBOT_DATABASE__DATA_DIR=/data \
    HTXBOT_KNOWLEDGE__PATH=/app/knowledge \
    HTXBOT_WEB__HOST=0.0.0.0 \
    HTXBOT_WEB__PORT=8080 \
    HTXBOT_BOT__LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
USER htxbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# 503 (database down, a channel that stopped polling) or no answer marks the container unhealthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTXBOT_WEB__PORT', '8080'), timeout=8)"
ENTRYPOINT ["htxbot"]
CMD ["run"]
