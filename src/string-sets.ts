/**
 * Sets of strings by key, for indexes where nearly every set has one member (a host claimed by one KIngress, a
 * Service behind one cluster, the slices of one Service): a lone member is kept as the string itself, a Set only
 * from the second one on. At 10k KIngresses that spares a Set object and its table for each of ~10^5 keys.
 * Members iterate in insertion order, as a Set's do.
 */
export class StringSets {
  private readonly sets = new Map<string, string | Set<string>>();

  /** Adds `member` to the set of `key`; false if it was there already. */
  add(key: string, member: string): boolean {
    const current = this.sets.get(key);
    if (current === undefined) {
      this.sets.set(key, member);
      return true;
    }
    if (typeof current === 'string') {
      if (current === member) return false;
      this.sets.set(key, new Set([current, member]));
      return true;
    }
    if (current.has(member)) return false;
    current.add(member);
    return true;
  }

  /** Removes `member` from the set of `key` (an emptied set disappears); false if it was not there. */
  delete(key: string, member: string): boolean {
    const current = this.sets.get(key);
    if (current === undefined) return false;
    if (typeof current === 'string') {
      if (current !== member) return false;
      this.sets.delete(key);
      return true;
    }
    if (!current.delete(member)) return false;
    if (current.size === 1) this.sets.set(key, current.values().next().value!);
    return true;
  }

  size(key: string): number {
    const current = this.sets.get(key);
    return current === undefined ? 0 : typeof current === 'string' ? 1 : current.size;
  }

  members(key: string): Iterable<string> {
    const current = this.sets.get(key);
    return current === undefined ? [] : typeof current === 'string' ? [current] : current;
  }
}
