#!/usr/bin/env bash
# CI's install check (run by .ci/run after the tests): build the release artifacts, install the
# .deb as an operator would (dpkg -i), then run the installed executor: --version, and one
# local-mode task through the installed wrapper, /opt/mesos/executor.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run package --silent
version="$(node -p "require('./package.json').version")"
deb="dist/sidecar-executor_${version}_all.deb"
# The package depends on nodejs (>= 20) from Debian's packages (NodeSource's, on most agents).
# Where node is on the PATH but not from a package, as on CI machines, dpkg cannot know it.
if dpkg --compare-versions "$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || echo 0)" ge 20; then
  dpkg -i "$deb"
else
  echo "check-install: node $(node --version) is not a Debian package; installing without the dependency check"
  dpkg -i --force-depends "$deb"
fi
# (Not `tee /dev/stderr`: with stderr redirected to a file, that reopens and truncates it.)
installed="$(/opt/mesos/sidecar-executor --version)"
echo "check-install: installed $installed"
grep -qE "^${version//./\\.} \([0-9a-f]+\+?\)$" <<<"$installed"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp examples/hello-task.json "$work/"
(cd "$work" && MESOS_SANDBOX="$work" /opt/mesos/executor.sh local hello-task.json) | tee "$work/updates"
grep -q 'TASK_FINISHED' "$work/updates"
echo "check-install: the installed executor ran a task through /opt/mesos/executor.sh"
