# fleetline container image.
# Stage 1 installs dependencies (better-sqlite3 compiles a native addon, so it needs a toolchain);
# stage 2 is the runtime: no toolchain, non-root user, health check on /healthz.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    FLEETLINE_DATA_DIR=/var/lib/fleetline/data \
    FLEETLINE_GRAFANA_OUT_DIR=/var/lib/fleetline/dashboards
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
RUN mkdir -p /var/lib/fleetline/data /var/lib/fleetline/dashboards \
 && chown -R node:node /var/lib/fleetline
USER node
# Forward (TCP + UDP heartbeat) and HTTP.
EXPOSE 24224/tcp 24224/udp 9880/tcp
VOLUME ["/var/lib/fleetline"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.FLEETLINE_HTTP_PORT||9880)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/fleetline.js"]
CMD ["serve"]
