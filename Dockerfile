# The strm proxy as a container image (see "Install" in README.md).
#   docker build -t strm .
#   docker run --rm -p 8080:8080 strm demo                       # no configuration: the demo
#   docker run -d -p 8080:8080 -e STRM_PROXY_SECRET=… -e STRM_RESOLVER_URL=http://resolver:9000 strm
# The build stage compiles the workspace; the runtime stage holds only the proxy's compiled dist,
# its production dependencies, and the demo (a bundle of apps/e2e's demo plus its ~0.7 MB of media).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# pnpm from npm at the workspace's pinned version (corepack would download it at first use).
RUN npm install --global --no-fund --no-audit pnpm@10.34.9
WORKDIR /src
# The lockfile alone decides the downloads, so this layer stays cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile --reporter=append-only
# The proxy and the packages it depends on, in dependency order (tsup: dist/*.js + types).
RUN pnpm --filter "@strm/proxy..." run build
# The demo (apps/e2e, private) as one ESM file; @strm/proxy and @strm/signing stay imports, so it
# runs on the same compiled proxy as `serve`. Its media folder is looked up at ../fixtures/media.
RUN pnpm exec tsup apps/e2e/src/demo.ts --no-config --format esm --platform node --target node20 \
      --external @strm/proxy --external @strm/signing --out-dir /out/demo/dist \
 && cp -R apps/e2e/fixtures/media /out/demo/fixtures-media
# The proxy as npm would install it: package.json, bin, dist, and production dependencies only.
RUN pnpm --filter @strm/proxy deploy --prod --legacy /out/app \
 && rm -rf /out/app/src /out/app/test /out/app/tsconfig.json /out/app/tsup.config.ts /out/app/vitest.config.ts

FROM ${NODE_IMAGE}
# GLIBC_TUNABLES: glibc keeps up to 32 MiB of freed heap instead of handing it back to the kernel
# at once. Every socket read of a stream is a 64 KiB buffer; without it some processes return and
# fault in those pages again for every read, at 0.2-0.7 CPU s more per GiB streamed. One arena
# shared by all threads (arena_max=1): the threshold holds per arena, and a worker thread's arena
# otherwise kept 35 MiB of start-up memory in about 1 start in 6; with it, about 1 start in 14
# keeps about as much in the main arena (tools/bench/README.md, "The allocator setting").
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    GLIBC_TUNABLES=glibc.malloc.trim_threshold=33554432:glibc.malloc.arena_max=1
# A fixed uid/gid, so volume permissions and `--user 10001` are predictable; no home, no shell.
RUN groupadd --system --gid 10001 strm \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin strm
COPY --from=build /out/app /app
COPY --from=build /out/demo/dist /app/demo/dist
COPY --from=build /out/demo/fixtures-media /app/demo/fixtures/media
COPY --chmod=755 tools/container/strm-proxy.mjs /usr/local/bin/strm-proxy
COPY tools/container/healthcheck.mjs /app/container/healthcheck.mjs
WORKDIR /app
USER 10001:10001
EXPOSE 8080
# Node rather than curl (the base has none): /healthz answers 200 while the process serves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "/app/container/healthcheck.mjs"]
# Node is PID 1 and handles SIGTERM itself: it stops accepting, lets running streams finish for
# up to 10 s, then exits 0. Give it a stop timeout above that (compose: stop_grace_period: 15s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["strm-proxy"]
CMD ["serve"]
