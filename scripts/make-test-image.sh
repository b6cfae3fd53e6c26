#!/bin/sh
# Builds the tiny local image the examples and tests run: Debian's static busybox in an empty
# rootfs, imported with `docker import` (no image registry is needed or reachable).
set -eu
IMAGE="${1:-sidecar-executor-test:latest}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then echo "$IMAGE already present"; exit 0; fi
BUSYBOX="$(command -v busybox || true)"
# The image has no libc, so busybox must be the static build (Debian's busybox-static).
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "a static busybox is needed: apt-get install -y busybox-static" >&2; exit 1
fi
ROOT="$(mktemp -d)"
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/bin" "$ROOT/tmp" "$ROOT/etc"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$ROOT/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$ROOT/etc/passwd"
tar -C "$ROOT" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
echo "built $IMAGE"
