/** A set of strings kept in sorted order: O(log n) search, insert and delete by splice (a memmove, cheap at 10^4-10^5). */
export class SortedKeys {
  private readonly keys: string[] = [];

  add(key: string): void {
    const at = this.search(key);
    if (this.keys[at] !== key) this.keys.splice(at, 0, key);
  }

  delete(key: string): void {
    const at = this.search(key);
    if (this.keys[at] === key) this.keys.splice(at, 1);
  }

  has(key: string): boolean {
    return this.keys[this.search(key)] === key;
  }

  values(): readonly string[] {
    return this.keys;
  }

  private search(key: string): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keys[middle]! < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
