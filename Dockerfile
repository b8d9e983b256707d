FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0 PATH=/app/.venv/bin:$PATH
WORKDIR /app
COPY requirements.txt .
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir --require-hashes -r requirements.txt \
    && touch ".venv/.installed-$(cat requirements.txt requirements.txt | sha1sum | cut -c1-12)"
COPY . .
RUN DEBUG=false python manage.py collectstatic --noinput -v 0
# The server runs unprivileged; it writes only under var/ (the SQLite default, when no DATABASE_URL).
RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin biosync \
    && mkdir -p var && chown biosync var
USER biosync
EXPOSE 3000 3002
# Liveness on the REST port; the probe's Host (127.0.0.1) must be in ALLOWED_HOSTS.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["python", "-c", \
    "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=2)"]
# Migrations are not run here, so replicas starting together do not race on them: run
# `python manage.py migrate` once per release (docker-compose.yml's migrate service does).
CMD ["python", "-m", "biosync.serve"]
