/**
 * Runs a task once per burst of requests: after `holdOffMs` of quiet, or at the latest `maxDelayMs` after the
 * first request of the burst, so that a continuous stream of changes still makes progress.
 */
export class CoalescingScheduler {
  private timer: NodeJS.Timeout | undefined;
  private firstRequestAt: number | undefined;

  constructor(private readonly task: () => void, private readonly holdOffMs: number, private readonly maxDelayMs: number) {}

  schedule(): void {
    const now = performance.now();
    this.firstRequestAt ??= now;
    const deadline = this.firstRequestAt + this.maxDelayMs;
    const wait = Math.max(0, Math.min(this.holdOffMs, deadline - now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), wait);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstRequestAt = undefined;
  }

  private run(): void {
    this.timer = undefined;
    this.firstRequestAt = undefined;
    this.task();
  }
}
