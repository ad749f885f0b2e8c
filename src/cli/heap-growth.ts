import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC left live, in percent (V8 picks up to 300 from
 * its GC speed). `ferry serve` allocates almost everything in its first pass (at 10k KIngresses ~2.3 GB for ~130 MB
 * live) and little afterwards, so the heap keeps the size and free pages of the first pass's last full GC until V8's
 * memory reducer runs, which waits for a quiet process and may not come for minutes. With growth capped at 50%,
 * full GCs come more often during the first pass, with less garbage between them: at 10k with a managed Envoy, the
 * bench's Ferry RSS end (peak) 371 (418) -> 331 (356) MB, for 3-8% more CPU in the cold start (6.1 -> 6.2-6.6 s);
 * 25% saves ~20 MB more for ~20% more CPU. Later passes allocate little, so they are not slowed.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Applies HEAP_GROWING_PERCENT unless node was started with its own --heap-growing-percent. V8 reads the flag at
 * every full GC, so setting it while the process runs takes effect from the next one.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, setFlags: (flags: string) => void = setFlagsFromString): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
