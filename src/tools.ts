// The operator's commands, bundled into dist/sidecar-executor-tools.js beside the executor and
// loaded only when one runs (scripts/build.mjs says why they are not in the executor's file).
export { runDoctor } from './doctor/doctor';
export { runLocal } from './local/local-command';
