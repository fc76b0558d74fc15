# syntax=docker/dockerfile:1
# The production image: gunicorn for web; the same image runs the Celery worker and beat.
# Build: docker build -t portfolio .   (docker compose build does this for you)

# Chart.js from the npm registry, exactly as package-lock.json pins it.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var \
    STATIC_MANIFEST=1 \
    WHITENOISE_USE_FINDERS=0 \
    WEB_CONCURRENCY=3
WORKDIR /app

RUN groupadd --system --gid 10001 portfolio \
    && useradd --system --uid 10001 --gid portfolio --home-dir /app --no-create-home portfolio

# The runtime dependencies from pyproject.toml, each at the version requirements.lock pins
# (a layer of its own, so a code change does not reinstall them).
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c requirements.lock -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --from=assets /build/node_modules/chart.js/dist ./node_modules/chart.js/dist
COPY . .

# Hashed, compressed static files, collected once at build; the key only satisfies settings.
RUN DEBUG=0 SECRET_KEY=collectstatic-at-build-time-only-not-used-to-serve-anything-0123456789 \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var \
    && chown -R portfolio:portfolio var

USER portfolio
EXPOSE 8000
# gunicorn starts WEB_CONCURRENCY workers.
CMD ["gunicorn", "portfolio.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
