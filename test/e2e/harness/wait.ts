import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `predicate` returns a truthy value (returned) or the time is up (throws, with the last error
 * the predicate threw, if any). For convergence, not for timing claims.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, timeoutMs = 15_000, description = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`waitFor: ${description} not reached within ${timeoutMs} ms${cause}`);
    }
    await sleep(50);
  }
}
