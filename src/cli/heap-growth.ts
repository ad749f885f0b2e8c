import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC left live, in percent, once the first pass is
 * over. During the first pass V8 picks the growth itself (up to 300% from its GC speed): the pass allocates ~2.3 GB
 * at 10k KIngresses for ~130 MB live, and a cap there means more full GCs (at 50%: ~0.4 s more of Ferry's CPU in the
 * bench's cold start). Afterwards Ferry allocates slowly, and from a slow allocation rate V8 infers that full GCs are
 * cheap: it lets the heap grow by ~10% only, so a full GC of the whole ~120 MB heap came every ~300 changes at 10k
 * (Ferry CPU per change in the bench's second round: 3.2-3.4 ms, against 1.7-2.3 with the cap). 50% makes them
 * several times rarer, for at most ~60 MB of garbage between them.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Applies HEAP_GROWING_PERCENT unless node was started with its own --heap-growing-percent. V8 reads the flag at
 * every full GC, so it takes effect from the next one: call it when the first pass is over.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, setFlags: (flags: string) => void = setFlagsFromString): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
