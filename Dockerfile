# spotify-history: one static-ish binary on Debian slim.
#   docker build -t spotify-history .
#   docker run -d -p 8000:8000 -v spotify-history:/data spotify-history
# The first start prints a generated admin token once: `docker logs <container>`.

# --- dependencies: a layer that only changes when Cargo.toml / Cargo.lock change ---------
FROM rust:1-bookworm AS skeleton
WORKDIR /src
COPY . .
# Keep the manifests and the lockfile; replace every Rust file by an empty stub (cargo wants
# each declared target to exist). Identical output => the builder's COPY below stays cached.
RUN mkdir /skeleton \
 && cp Cargo.toml Cargo.lock /skeleton/ \
 && find crates -name Cargo.toml -exec cp --parents {} /skeleton/ \; \
 && find crates -name '*.rs' | while read -r f; do \
      mkdir -p "/skeleton/$(dirname "$f")"; \
      case "$f" in */lib.rs) : > "/skeleton/$f" ;; *) echo 'fn main() {}' > "/skeleton/$f" ;; esac; \
    done

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY --from=skeleton /skeleton/ ./
RUN cargo build --release --locked -p spotify-history-cli
# The real sources; touch them so cargo does not mistake the stubs' build for a fresh one.
COPY . .
RUN find crates -name '*.rs' -exec touch {} + \
 && cargo build --release --locked -p spotify-history-cli \
 && install -m 0755 target/release/spotify-history /usr/local/bin/spotify-history

# --- runtime -------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: Spotify is HTTPS-only and the TLS stack verifies against the system roots.
# busybox: its `wget` applet is the healthcheck's HTTP client (0.8 MB, needs only libc; curl
# would pull libcurl4 with its LDAP/Kerberos/SSH dependencies, several MB).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates busybox \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 spotify-history \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin spotify-history \
 && mkdir -p /data/uploads && chown -R 10001:10001 /data
COPY --from=builder /usr/local/bin/spotify-history /usr/local/bin/spotify-history

ENV DATA_DIR=/data \
    BIND_ADDR=0.0.0.0:8000
VOLUME ["/data"]
EXPOSE 8000
USER 10001:10001

# /healthz answers 503 when the database does not respond; busybox wget exits non-zero then.
# The port follows BIND_ADDR if it is overridden. (`collector` serves no HTTP: disable there.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD busybox wget -q -O /dev/null "http://127.0.0.1:${BIND_ADDR##*:}/healthz" || exit 1

ENTRYPOINT ["spotify-history"]
CMD ["serve"]
