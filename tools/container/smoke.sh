#!/usr/bin/env bash
# Container smoke test: builds the image from the repository's Dockerfile with docker (when its
# daemon answers) or podman, then runs tools/container/smoke.ts against it (see that file for
# every check). Needs Node with the workspace installed, ffprobe, and the base image
# node:20-bookworm-slim pullable or present. Prints the figures and "container smoke: passed".
#   bash tools/container/smoke.sh            # or: pnpm nx container-smoke @strm/tools
# STRM_SMOKE_ENGINE=docker|podman picks the engine; STRM_SMOKE_IMAGE names the image (strm:smoke).
set -euo pipefail
cd "$(dirname "$0")/../.."

engine="${STRM_SMOKE_ENGINE:-}"
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null 2>&1; then engine=podman
  else
    echo "container smoke: neither a running docker nor podman found (on a machine without registry access, ../shared/container-standin.sh installs podman and a stand-in base image)" >&2
    exit 1
  fi
fi
image="${STRM_SMOKE_IMAGE:-localhost/strm:smoke}"
command -v ffprobe >/dev/null 2>&1 || { echo "container smoke: ffprobe is needed (apt-get install -y ffmpeg)" >&2; exit 1; }

build_args=(build --tag "$image" .)
# podman writes OCI images by default, and the OCI format has no HEALTHCHECK; the docker format
# keeps it. Host networking lets the build reach the npm registry the way the host does.
[ "$engine" = podman ] && build_args=(build --format docker --network host --tag "$image" .)
echo "container smoke: $engine ${build_args[*]}"
start=$(date +%s)
"$engine" "${build_args[@]}" >/tmp/strm-smoke-build.$$.log 2>&1 || { tail -50 /tmp/strm-smoke-build.$$.log; rm -f /tmp/strm-smoke-build.$$.log; exit 1; }
rm -f /tmp/strm-smoke-build.$$.log
echo "container smoke: image built in $(( $(date +%s) - start )) s"
base_size=$("$engine" image inspect --format '{{.Size}}' node:20-bookworm-slim 2>/dev/null || echo 0)
echo "container smoke: base image node:20-bookworm-slim $(( base_size / 1000000 )) MB"

exec node --conditions=@strm/source --import tsx tools/container/smoke.ts "$engine" "$image"
