/** A secondary index: index value → set of object keys, kept up to date as objects come and go. */
export class ObjectIndex<T> {
  private readonly byValue = new Map<string, Set<string>>();

  constructor(private readonly valuesOf: (object: T) => string[]) {}

  add(key: string, object: T): void {
    for (const value of this.valuesOf(object)) {
      let keys = this.byValue.get(value);
      if (!keys) this.byValue.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  remove(key: string, object: T): void {
    for (const value of this.valuesOf(object)) {
      const keys = this.byValue.get(value);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byValue.delete(value);
    }
  }

  keys(value: string): string[] {
    return [...(this.byValue.get(value) ?? [])];
  }
}
