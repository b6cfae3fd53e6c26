#!/usr/bin/env bash
# Prepares a fresh Debian machine (as root) to run the executor and its tests: a real Docker
# engine (started in the background when none answers), a local registry and htpasswd for the
# pull tests, a static busybox for the tiny test image, then `npm ci` and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The fault tests give a private dockerd a bridge of its own (ip link).
command -v ip >/dev/null 2>&1 || need+=(iproute2)
bb="$(command -v busybox || true)"
{ [ -n "$bb" ] && ! ldd "$bb" >/dev/null 2>&1; } || need+=(busybox-static)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker version >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  nohup dockerd >/tmp/sidecar-executor-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 1; done
  docker version >/dev/null 2>&1 || { echo "setup: dockerd did not start"; tail -50 /tmp/sidecar-executor-dockerd.log; exit 1; }
fi
echo "setup: docker engine $(docker version --format '{{.Server.Version}}')"

sh scripts/make-test-image.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
echo "setup: done; try: bin/sidecar-executor local examples/hello-task.json"
