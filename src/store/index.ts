import { StringSets } from '../string-sets.js';

/** A secondary index: index value → set of object keys, kept up to date as objects come and go. */
export class ObjectIndex<T> {
  /** Most values index one object (a Service's slices, a Secret's KIngress): StringSets keeps those without a Set. */
  private readonly byValue = new StringSets();

  constructor(private readonly valuesOf: (object: T) => string[]) {}

  add(key: string, object: T): void {
    for (const value of this.valuesOf(object)) this.byValue.add(value, key);
  }

  remove(key: string, object: T): void {
    for (const value of this.valuesOf(object)) this.byValue.delete(value, key);
  }

  keys(value: string): string[] {
    return [...this.byValue.members(value)];
  }
}
