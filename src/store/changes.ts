import type { ObjectKind, ObjectsByKind } from '../model/kinds.js';

export type ChangeType = 'added' | 'updated' | 'deleted';

/** One object that changed in the store; `object` is absent for a deletion, `previous` for an addition. */
export type ObjectChange = {
  [K in ObjectKind]: { kind: K; key: string; type: ChangeType; object?: ObjectsByKind[K]; previous?: ObjectsByKind[K] };
}[ObjectKind];

/** What a source asks the store to do: put an object (added or updated), or delete one by key. */
export type StoreUpdate =
  | { [K in ObjectKind]: { kind: K; object: ObjectsByKind[K] } }[ObjectKind]
  | { kind: ObjectKind; key: string; delete: true };
