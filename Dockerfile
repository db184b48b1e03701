FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
# The checked SQL builds from its committed offline data (SQLX_OFFLINE in .cargo/config.toml).
COPY .sqlx ./.sqlx
COPY .cargo ./.cargo
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/cashdesk /usr/local/bin/cashdesk
ENV BIND=0.0.0.0:8080
EXPOSE 8080
USER nobody
ENTRYPOINT ["cashdesk"]
CMD ["serve"]
