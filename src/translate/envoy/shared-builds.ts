/**
 * What both gateway roles build alike within one reconcile pass. A cluster depends on its backend only, a load
 * assignment on its backend and on EndpointSlices that do not change during a pass, and a table shared by the roles
 * on its KIngress's translation: the second role takes the encoded resource the first one built, instead of building
 * and encoding the same bytes again (at 10k KIngresses 16k clusters, 16k load assignments and 10k tables fewer at
 * start, and one copy of each in memory). An entry is taken only for the very object it was built from; anything
 * else is built anew. Made for one pass, then dropped: what the next pass reads may have changed.
 */
export class SharedBuilds {
  private readonly built = new Map<string, Map<string, { from: object; value: unknown }>>();

  /** The value built for `name` of this `kind` from the object `from`, building it once. */
  once<T>(kind: string, name: string, from: object, build: () => T): T {
    let ofKind = this.built.get(kind);
    if (!ofKind) this.built.set(kind, (ofKind = new Map()));
    const entry = ofKind.get(name);
    if (entry && entry.from === from) return entry.value as T;
    const value = build();
    ofKind.set(name, { from, value });
    return value;
  }
}
