# Ruimte Circulair service image. Build: docker build -t ruimte-circulair .
# Run with compose.yaml (PostGIS + app), or: docker run -e DATABASE_URL=... -p 8000:8000 ruimte-circulair
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/ruimte
# Dependencies first, in their own cached layer.
COPY pyproject.toml README.md LICENSE ./
RUN mkdir app spatial layers scenarios && touch app/__init__.py spatial/__init__.py layers/__init__.py scenarios/__init__.py \
    && pip install . && pip uninstall -y ruimte-circulair
COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app
COPY spatial ./spatial
COPY layers ./layers
COPY scenarios ./scenarios
RUN pip install --no-deps -e .

RUN useradd --create-home --uid 10001 ruimte
USER ruimte
EXPOSE 8000
# Migrate, load the demo data into an empty database, and serve.
CMD ["ruimte", "demo", "--host", "0.0.0.0", "--port", "8000"]
