// Heap measured after a full collection, so a test sees what is retained, not garbage awaiting
// collection (V8 sizes its young generation to the allocation rate, tens of MB in a flood).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapUsed in bytes right after a full garbage collection. */
export function retainedHeap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
