#!/bin/bash
# The task's executor command (docs/wrapper-and-install.md). It copies the installed executor into
# the task's sandbox and runs the copy, so the installed one can be upgraded under running tasks; it
# sources an optional site environment first; and when the executor is gone it stops any
# container of this task still running, so no container outlives its executor.
SIDECAR_EXECUTOR_PATH="${SIDECAR_EXECUTOR_PATH:-/opt/mesos/sidecar-executor}"
SIDECAR_EXECUTOR_CUSTOM_ENV_PATH="${SIDECAR_EXECUTOR_CUSTOM_ENV_PATH:-/opt/mesos/executor-environment.sh}"

if [ -f "$SIDECAR_EXECUTOR_CUSTOM_ENV_PATH" ]; then
  # shellcheck disable=SC1090
  . "$SIDECAR_EXECUTOR_CUSTOM_ENV_PATH"
fi

SANDBOX="${MESOS_SANDBOX:-$(pwd)}"
COPY="$SANDBOX/sidecar-executor"
if ! cp "$SIDECAR_EXECUTOR_PATH" "$COPY" || ! chmod 0755 "$COPY"; then
  echo "executor.sh: cannot copy $SIDECAR_EXECUTOR_PATH into $SANDBOX" >&2
  exit 1
fi
# The operator's commands (`local`, `doctor`) live in a file beside the executor; a task never
# needs them, but `executor.sh local task.json` does.
TOOLS="$(dirname "$SIDECAR_EXECUTOR_PATH")/sidecar-executor-tools.js"
if [ -f "$TOOLS" ]; then cp "$TOOLS" "$SANDBOX/sidecar-executor-tools.js" 2>/dev/null || true; fi

# The executor's own stop timeout (KillTaskTimeout, seconds), under its fallback name too, so the
# clean-up gives a service the same SIGTERM grace the executor would have, not Docker's 10 s.
STOP_TIMEOUT="${EXECUTOR_KILL_TASK_TIMEOUT:-${KILL_TASK_TIMEOUT:-5}}"

stop_orphans() {
  [ -n "${TASK_ID:-}" ] || return 0
  for id in $(docker ps -q 2>/dev/null); do
    if docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$id" 2>/dev/null | grep -qxF "TASK_ID=$TASK_ID"; then
      echo "executor.sh: stopping container $id of task $TASK_ID left running" >&2
      docker stop -t "$STOP_TIMEOUT" "$id" >/dev/null
    fi
  done
}

# Linux caps the process title at the length of the original command line; the blank argument
# makes room for "sidecar-executor <container> (<image>)" (the executor ignores it).
PAD="                                                                                                                                                                "
# Arguments are passed on (none under an agent; `executor.sh local task.json` tries a task).
"$COPY" "$@" "$PAD" &
CHILD=$!
trap 'kill -TERM "$CHILD" 2>/dev/null' TERM INT
while :; do
  wait "$CHILD"
  STATUS=$?
  kill -0 "$CHILD" 2>/dev/null || break
done
stop_orphans
exit "$STATUS"
