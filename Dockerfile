# warroom's container image: one binary with the dashboard embedded, on Debian slim.
#
#   docker build -t warroom .
#   docker run -p 8080:8080 -v warroom-data:/data warroom      # SQLite in the volume
#
# Three stages: the dashboard is built with Node 20 (Debian bookworm's own nodejs is 18, too old
# for the web app, and the official node image is simpler than adding a Node repository to the
# Rust image); the binary is built with the Rust image, embedding web/dist; the final image has
# only the binary (18 MB stripped), the CA bundle and a non-root user: 93 MB, of which 75 MB is
# debian:bookworm-slim itself (measured: docs/deploy.md, "Verified").
#
# No `# syntax=` line: with BuildKit it makes every build fetch the docker/dockerfile frontend
# image from Docker Hub first (without Docker Hub the build fails before its first step), and
# nothing here needs more than the built-in frontend.

# --- 1. the dashboard ---------------------------------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# --- 2. the binary --------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
# The workspace lists bench/ as a member, so its manifest must be present; only the root package
# (the `warroom` binary) is built.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY bench/ bench/
COPY migrations/ migrations/
COPY src/ src/
# rust-embed reads web/dist at compile time: a release build without it serves a "not built" page.
COPY --from=web /src/web/dist web/dist
RUN cargo build --release --locked \
 && strip target/release/warroom \
 && cp target/release/warroom /usr/local/bin/warroom

# --- 3. the image ---------------------------------------------------------------------------------
FROM debian:bookworm-slim
# No apt in this stage: the CA bundle is copied from the build image (installing ca-certificates
# would pull in openssl, ~9 MB, for one file), and there is no curl: the health check below uses
# bash's /dev/tcp (bash is in every Debian image), which saves curl and its ~10 MB of libraries.
# The bundle is what warroom trusts for TLS to Redis (`rediss://`) and to PostgreSQL with
# `sslmode=verify-full` and no `sslrootcert`: rustls reads it through rustls-native-certs (no
# OpenSSL, no webpki-roots compiled in). Without it only `sslrootcert`, `DATABASE_CA_CERT` and
# `REDIS_CA_FILE` verify.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin warroom \
 && mkdir -p /data && chown warroom:warroom /data
COPY --from=build /usr/local/bin/warroom /usr/local/bin/warroom

# SQLite by default, in the volume; DATABASE_URL=postgres://… (and REDIS_URL for several instances)
# switch the store, and then /data stays empty.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_PATH=/data/tasks.db
VOLUME ["/data"]
WORKDIR /data
USER warroom:warroom
EXPOSE 8080

# /api/health answers 200 while the store answers and 503 while it does not. HTTP/1.0 so the
# server closes the connection after the answer; the status is the second word of the first line.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /api/health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ code _ <&3 && [ \"$code\" = 200 ]"]

# warroom handles SIGTERM itself (closes sockets, flushes the store), so it can be PID 1.
# `docker run IMAGE key`, `… token create --name Ann`, `… backup /data/backup.db` run the other commands.
ENTRYPOINT ["warroom"]
CMD ["serve"]
