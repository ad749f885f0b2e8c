/**
 * The names whose served content changed, in order, numbered by a sequence, so that a delta stream asks
 * "what changed since I last looked" and does work proportional to that, not to the whole set. Bounded:
 * when the oldest entries are dropped, a reader that is too far behind gets undefined and diffs in full.
 */
export class ChangeJournal {
  private names: string[] = [];
  /** Sequence number of names[0]. */
  private firstSeq = 1;
  private lastSeq = 0;

  constructor(private readonly maxEntries = 65_536) {}

  get seq(): number {
    return this.lastSeq;
  }

  record(name: string): void {
    this.lastSeq++;
    this.names.push(name);
    if (this.names.length > this.maxEntries) {
      const drop = this.names.length >> 1;
      this.names = this.names.slice(drop);
      this.firstSeq += drop;
    }
  }

  /** Distinct names changed after `seq`, or undefined when the journal no longer reaches back that far. */
  since(seq: number): Set<string> | undefined {
    if (seq + 1 < this.firstSeq) return undefined;
    return new Set(this.names.slice(seq + 1 - this.firstSeq));
  }
}
