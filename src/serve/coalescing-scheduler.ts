/**
 * Runs a task once per burst of requests: after `holdOffMs` of quiet, or at the latest `maxDelayMs` after the
 * first request of the burst, so that a continuous stream of changes still makes progress. With no hold-off (for a
 * source that gathers its bursts itself), the task runs once, right after the requests of the current turn.
 */
export class CoalescingScheduler {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private firstRequestAt: number | undefined;

  constructor(private readonly task: () => void, private readonly holdOffMs: number, private readonly maxDelayMs: number) {}

  schedule(): void {
    if (this.holdOffMs <= 0) {
      this.immediate ??= setImmediate(() => this.run());
      return;
    }
    const now = performance.now();
    this.firstRequestAt ??= now;
    const deadline = this.firstRequestAt + this.maxDelayMs;
    const wait = Math.max(0, Math.min(this.holdOffMs, deadline - now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), wait);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.firstRequestAt = undefined;
  }

  private run(): void {
    this.timer = undefined;
    this.immediate = undefined;
    this.firstRequestAt = undefined;
    this.task();
  }
}
