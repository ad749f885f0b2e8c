/**
 * Whether resourceVersion a is older than b. They are etcd revisions: decimal numbers that grow with every write. (The
 * API calls them opaque; every client that must order its own read or write against a watch event compares them so.)
 * False when either is not such a number: nothing is known to be older then.
 */
export function olderResourceVersion(a: string, b: string): boolean {
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return false;
  // Without leading zeros, a shorter number is smaller, and numbers of one length compare as their text does.
  return a.length !== b.length ? a.length < b.length : a < b;
}

const DECIMAL = /^[1-9]\d*$|^0$/;
