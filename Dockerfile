# syntax=docker/dockerfile:1
# Production image for Tương Thân: gunicorn serving portal.wsgi on port 8000.
# The same image runs the Celery worker and beat (see docker-compose.yml).

# --- front-end packages (Bootstrap, Bootstrap Icons), served by the portal itself
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- the application
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false \
    WEB_CONCURRENCY=3

# WeasyPrint's libraries (Pango, HarfBuzz) and fonts with Vietnamese glyphs for the PDFs;
# pg_dump and pg_restore (15, like the db service) for `manage.py backup` and `restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
        fonts-dejavu-core fontconfig postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first (pyproject.toml is their single source), so a code change
# does not reinstall them. The project declares no importable package of its
# own: the apps run from /app.
COPY pyproject.toml ./
RUN pip install .

COPY --from=assets /build/node_modules ./node_modules
COPY . .

# The compiled translations (.mo) are committed; collectstatic gathers the
# portal's own static files and the npm packages into var/static for WhiteNoise.
RUN SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput \
    && mkdir -p var/media var/celery \
    && chown -R app:app var

USER app
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
