// This process's identity as the owner labels record it (owner-labels.ts): read at start-up by
// every executor, so it lives apart from the orphan reaper, which loads only when it runs.
import { readFileSync, readlinkSync } from 'node:fs';
import { startTimeFromStat, type ProcessIdentity } from '../docker/owner-labels';

/** This process's identity, or undefined where /proc cannot tell it (then no labels, no reaping). */
export function ownIdentity(): ProcessIdentity | undefined {
  try {
    const startTime = startTimeFromStat(readFileSync('/proc/self/stat', 'utf8'));
    const pidNamespace = readlinkSync('/proc/self/ns/pid');
    return startTime === undefined ? undefined : { pid: process.pid, startTime, pidNamespace };
  } catch {
    return undefined;
  }
}

