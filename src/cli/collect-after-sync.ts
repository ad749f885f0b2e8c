import { Session } from 'node:inspector';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full, synchronous garbage collection (V8's `gc()`, exposed for this call). */
export function fullGarbageCollection(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Gives memory back to the system as V8's memory reducer would: full collections until nothing more is freed, then
 * the new space shrunk to its minimum and free pages released. `gc()` (fullGarbageCollection) frees the same objects
 * but keeps the new space at the size the first pass grew it to (32 MB at 10k KIngresses), which only the memory
 * reducer shrinks, and it waits for a quiet process. The in-process inspector's `HeapProfiler.collectGarbage` is
 * V8's low-memory notification; no port is opened. Resolves once done; falls back to `gc()` if the inspector is
 * unavailable (a node built without it).
 */
export function releaseMemory(): Promise<void> {
  let session: Session;
  try {
    session = new Session();
    session.connect();
  } catch {
    fullGarbageCollection();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    session.post('HeapProfiler.collectGarbage', (err) => {
      // Disconnecting inside the inspector's callback stalls the event loop; leave the callback first.
      setImmediate(() => {
        session.disconnect();
        if (err) fullGarbageCollection();
        resolve();
      });
    });
  });
}

/** How long collectGarbageOnceSynced waits for the gateways before it collects without them. */
export const RELEASE_FALLBACK_MS = 30_000;

export interface SyncEvents {
  /** Called when what a gateway holds may have changed (connect, ACK, NACK, close); returns the unsubscribe. */
  onStreamsChanged(listener: () => void): () => void;
}

/**
 * Calls `collect` once (`ferry serve`: releaseMemory), the first time the gateways hold the whole configuration after
 * the first pass. The first pass allocates ~2.3 GB at 10k KIngresses for ~170 MB live, and its push leaves ~20-40 MB
 * of dead gRPC response buffers; V8 frees them at its next full GC, which may not come for minutes, since little is
 * allocated afterwards (its memory reducer waits for a quiet process). At 10k with a managed Envoy, Ferry RSS at the
 * bench's end: 324 MB with no collection, ~270 with one `gc()`, ~240 with releaseMemory (the new space shrunk too).
 * Gateways are in sync then, so it delays no update. Any full collection here (or V8's own, later) also discards the
 * optimised code of ~85 functions whose embedded maps died with the first pass's objects (`--trace-deopt`: "weak
 * objects"); V8 optimises them again over the first changes, along with the change path's first optimisations
 * (~190 ms of its compiler threads over the first 240 changes at 10k, about half of it for functions seen before).
 * Call once the first pass is handed over; it runs on a later turn of the event loop, not inside an ACK. If the
 * gateways are not in sync within `fallbackMs` (none connected, or one that keeps NACKing), it collects then: the
 * first pass runs with V8's default heap growth, so until a full collection its garbage stays resident.
 */
export function collectGarbageOnceSynced(events: SyncEvents, synced: () => boolean, collect: () => void, fallbackMs = RELEASE_FALLBACK_MS): void {
  let done = false;
  const run = (): void => {
    done = true;
    unsubscribe();
    clearTimeout(fallback);
    setImmediate(collect);
  };
  const check = (): void => {
    if (!done && synced()) run();
  };
  // No gateway connected (--envoy none with no Envoy yet), or one that never syncs: collect anyway, once.
  const fallback = setTimeout(() => { if (!done) run(); }, fallbackMs);
  fallback.unref();
  const unsubscribe = events.onStreamsChanged(check);
  check();
}

/** How long without a reconcile pass before collectGarbageAfterBursts collects; also how often it looks. */
export const BURST_QUIET_MS = 2_000;
/** How much the heap may have grown since the last collection before a quiet moment collects again. */
export const BURST_HEAP_GROWTH = 1.3;

export interface BurstEvents {
  /** Called after every reconcile pass; returns the unsubscribe. */
  onPass(listener: () => void): () => void;
}

export interface BurstOptions {
  quietMs?: number;
  growth?: number;
  /** V8's heap size now (getHeapStatistics().total_heap_size). */
  heapSize?: () => number;
}

/**
 * After the first collection, the same for every later burst: every `quietMs`, if no reconcile pass ran for as long,
 * the gateways are in sync and the heap has grown by `growth` since the last collection, `collect` runs. Kube mode's
 * KIngresses mostly arrive after the start, a burst at a time (Knative creating Routes, a namespace applied), and each
 * brings status writes and their watch events after it: at 10k created one by one the heap stood at ~180 MB (32 MB of
 * it an enlarged young generation) against ~105 MB live, since V8's memory reducer waits for an idle process and its
 * next full GC for 50% more (limitHeapGrowth). A quiet moment after growth is when a collection delays nothing
 * (~0.1-0.2 s of one core at 10k). Returns the unsubscribe.
 */
export function collectGarbageAfterBursts(events: BurstEvents, synced: () => boolean, collect: () => Promise<void>, options: BurstOptions = {}): () => void {
  const { quietMs = BURST_QUIET_MS, growth = BURST_HEAP_GROWTH, heapSize = () => getHeapStatistics().total_heap_size } = options;
  let baseline = heapSize();
  let lastPass = Date.now();
  let collecting = false;
  const offPass = events.onPass(() => { lastPass = Date.now(); });
  const look = setInterval(() => {
    if (collecting || Date.now() - lastPass < quietMs || heapSize() < baseline * growth || !synced()) return;
    collecting = true;
    void collect().finally(() => {
      collecting = false;
      baseline = heapSize();
    });
  }, quietMs);
  look.unref();
  return () => {
    clearInterval(look);
    offPass();
  };
}
