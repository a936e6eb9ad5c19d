# The Vmeste app image: Python 3.11, the app's Python and npm packages, compiled catalogues.
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN python -m pip install '.' && python -m pip install babel
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY . .
RUN mkdir -p static/vendor \
    && cp node_modules/socket.io-client/dist/socket.io.esm.min.js static/vendor/ \
    && cp node_modules/hls.js/dist/hls.min.mjs static/vendor/ \
    && pybabel compile -q -d locales -D messages
RUN useradd --system --home /app vmeste && mkdir -p /app/data && chown -R vmeste /app/data
USER vmeste
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/api/health').status==200 else 1)"
CMD ["python", "-m", "bot"]
