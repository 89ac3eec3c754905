# The registry's web image: gunicorn serving wsgi:app on port 8000 as a non-root user.
# The same image runs the scheduler: `docker run IMAGE registry jobs run`.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
# install into a prefix the runtime stage copies, so the image carries no build leftovers
RUN pip install --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REGISTRY_VAR_DIR=/app/var \
    WEB_CONCURRENCY=2
RUN groupadd --system registry \
    && useradd --system --gid registry --create-home --home-dir /home/registry registry
COPY --from=build /install /usr/local
WORKDIR /app
COPY wsgi.py docker-entrypoint.sh ./
RUN chmod 0755 docker-entrypoint.sh \
    && mkdir -p /app/var \
    && chown registry:registry /app/var
USER registry
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["/app/docker-entrypoint.sh"]
# WEB_CONCURRENCY sets the worker count; GUNICORN_CMD_ARGS adds any other gunicorn option
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", \
     "--access-logformat", "%(h)s \"%(r)s\" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s", \
     "wsgi:app"]
