# The Lianzheng service image: the web service (gunicorn) and the anchor worker run from it (docker-compose.yml).
FROM python:3.11-slim-bookworm

# ffprobe/ffmpeg for evidence media, WenQuanYi for the Chinese PDF reports, Node.js for the pinned browser
# modules (@noble/hashes) the portal serves.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-wqy-microhei nodejs npm curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --omit=optional
COPY . .
# Editable, so the committed contract artifact (contracts/build) and node_modules resolve from /app.
RUN pip install --no-cache-dir -e . \
 && useradd --uid 10001 --home-dir /app lianzheng \
 && mkdir -p /var/lib/lianzheng && chown lianzheng /var/lib/lianzheng
USER lianzheng
ENV LIANZHENG_DATA_DIR=/var/lib/lianzheng
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "verify_portal.web:create_app()"]
