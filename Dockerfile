# AirClass in a container: `docker build -t airclass .`, then `docker run` it, or `docker compose up`
# (compose.yaml: a main, three subs, PostgreSQL and Redis). test/deploy.test.ts checks this file.

# --- builder: all dependencies, the web pages, then only the production dependencies -----------
FROM node:24-bookworm-slim AS builder
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# The lock file and the patches first, so that a code change does not reinstall everything.
# `npm ci` runs the postinstall (patch-package, patches/) and fetches the prebuilt native
# packages (node-datachannel's platform package, the `node` 24 binary the devDependency pins).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY web ./web
# web/ → dist/web with Vite (a dev dependency); the build writes dist/web/.stamp.
RUN node bin/ensure-web.js --force \
  && test -f dist/web/.stamp
# Production dependencies only. --ignore-scripts: patch-package (a dev dependency) is gone by
# then. The npm-shipped ffmpeg goes too: the runtime stage installs Debian's, which
# src/media/transcode/ffmpeg-locate.ts prefers (ffmpeg on PATH).
RUN npm prune --omit=dev --ignore-scripts \
  && rm -rf node_modules/@ffmpeg-installer \
  && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
# ffmpeg: the AAC → Opus transcoder and the recorder's remux (HLS), slide snapshots.
# tesseract-ocr + kor/eng: reading slides (src/control/ai/builtin/ocr.ts asks for kor and eng).
# No fonts: the server draws no text (pages are rendered by the students' browsers; slide
# snapshots are frames of the video). No curl: the health check below uses node. No
# ca-certificates: Node carries its own CA list (Gemini over HTTPS).
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    ffmpeg tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng \
  && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 airclass \
  && useradd --system --uid 10001 --gid airclass --home-dir /app --no-create-home \
    --shell /usr/sbin/nologin airclass \
  && mkdir -p /data/recordings /node-tokens \
  && chown -R 10001:10001 /data /node-tokens
WORKDIR /app
# The code stays root-owned (read-only for the server). web/ is not copied: without it
# bin/ensure-web.js never rebuilds (Vite is not in this image); dist/web is the builder's.
COPY --from=builder /app/package.json ./package.json
COPY --from=builder /app/node_modules ./node_modules
COPY --from=builder /app/bin ./bin
COPY --from=builder /app/src ./src
COPY --from=builder /app/migrations ./migrations
COPY --from=builder /app/dist/web ./dist/web
ENV NODE_ENV=production \
  AIRCLASS_DATA_DIR=/data
VOLUME ["/data"]
# HTTP, HTTPS, RTMP, RTSP (TCP) and the one WebRTC UDP port: the defaults of
# src/config/defaults.ts. AIRCLASS_PORT_OFFSET shifts all of them (publish the shifted ones).
EXPOSE 8000/tcp 8443/tcp 1935/tcp 8554/tcp 8189/udp
USER 10001:10001
# /health on the HTTP port (AIRCLASS_HTTP_PORT + AIRCLASS_PORT_OFFSET; set the offset in the
# environment, not with --port-offset, so that this check finds the port). Never redirected.
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const p=Number(process.env.AIRCLASS_HTTP_PORT||8000)+Number(process.env.AIRCLASS_PORT_OFFSET||0);fetch('http://127.0.0.1:'+p+'/health',{signal:AbortSignal.timeout(5000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The server handles SIGTERM itself (closes the lesson's listeners, then exits); compose.yaml
# adds `init: true` so that an orphaned ffmpeg or tesseract child is reaped too.
ENTRYPOINT ["node", "bin/airclass.js"]
CMD ["start"]
