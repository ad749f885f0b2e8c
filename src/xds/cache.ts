import type { FerryMetrics } from '../metrics.js';
import { ChangeJournal } from './change-journal.js';
import { RemovalBarriers, RETAINED_TYPES, type Barrier, type RetainedItem } from './removal-barriers.js';
import { compactResources, type XdsResource } from './resource.js';
import { PUSH_ORDER, REFERRING_TYPES, SHORT_NAME, TypeUrl } from './resource-types.js';
import { GATEWAY_ROLES, type GatewayRole } from './roles.js';
import { VersionAccumulator, formatVersion, resourceDigest } from './version-digest.js';

export type CacheListener = (role: GatewayRole, typeUrls: TypeUrl[]) => void;

/** A set of roles as a small number: the key of a cached version string, found without building a string. */
const ROLE_BITS: Readonly<Record<GatewayRole, number>> = { external: 1, local: 2 };

/**
 * The served resources of one type for one role: current ones plus retained removals. Resources are held
 * bare (no entry object, no stored digest: it is recomputed on removal) because there are ~10^5 of them.
 */
class TypeTable {
  readonly entries = new Map<string, XdsResource>();
  /** Removed, but still served until the gateways ACKed routes and listeners that no longer use them. */
  readonly retained = new Set<string>();
  readonly accumulator = new VersionAccumulator();
  readonly journal = new ChangeJournal();

  /** Called on every change of the accumulator (the cache forgets the version strings it formatted). */
  constructor(private readonly changed: () => void) {}

  put(resource: XdsResource): void {
    const old = this.entries.get(resource.name);
    if (old) this.accumulator.remove(resourceDigest(old.name, old.hash));
    this.entries.set(resource.name, resource);
    this.retained.delete(resource.name);
    this.accumulator.add(resourceDigest(resource.name, resource.hash));
    this.journal.record(resource.name);
    this.changed();
  }

  delete(name: string): void {
    const old = this.entries.get(name);
    if (!old) return;
    this.entries.delete(name);
    this.retained.delete(name);
    this.accumulator.remove(resourceDigest(old.name, old.hash));
    this.journal.record(name);
    this.changed();
  }
}

/**
 * What each gateway role is served, per type: every resource encoded once, with hashes and versions.
 * It knows what a stream needs, not how the protocol delivers it (that is server.ts).
 *
 * Removals of clusters, endpoints and secrets are make-before-break: they stay served until every
 * connected stream of the role has ACKed the listener and route versions current at the removal, which
 * no longer refer to them. The server reports ACKs and closed streams through streamAcked/streamClosed.
 * Callers that change routes and clusters together should use setAll, which applies the referring types
 * first so that a removal waits for the right versions.
 */
export class XdsCache {
  private readonly tables = new Map<GatewayRole, Map<TypeUrl, TypeTable>>();
  private readonly listeners = new Set<CacheListener>();
  private readonly barriers = new RemovalBarriers();
  /** Barriers released by a listener/route change, released after that change is announced. */
  private pendingRelease: Barrier[] = [];
  private readonly current = (roles: readonly GatewayRole[], typeUrl: TypeUrl): string => this.version(roles, typeUrl);
  /**
   * Version strings by type and set of roles (ROLE_BITS), until the next change of any table: every push, ACK, removal
   * barrier and sync check asks for versions, many times per change, and formatting one costs more than looking it up.
   */
  private readonly versions = new Map<TypeUrl, string[]>();

  /**
   * False while the first translation is still filling the cache. Until then nothing may be taken away from a
   * gateway: delta streams send additions and updates only, SotW streams (whose every response is the whole set)
   * send nothing. A gateway that reconnects while Ferry restarts keeps everything it has.
   */
  private complete: boolean;

  constructor(options: { metrics?: FerryMetrics; complete?: boolean } = {}) {
    this.complete = options.complete ?? true;
    for (const role of GATEWAY_ROLES) {
      this.tables.set(role, new Map(PUSH_ORDER.map((typeUrl) => [typeUrl, new TypeTable(() => this.versions.clear())])));
    }
    options.metrics?.resources.readFrom(() => GATEWAY_ROLES.flatMap((role) =>
      PUSH_ORDER.map((typeUrl) => [{ role, type: SHORT_NAME[typeUrl] }, this.table(role, typeUrl).entries.size] as const)));
  }

  /** Replaces the whole set of one type for one role; returns true if what is served changed. */
  setResources(role: GatewayRole, typeUrl: TypeUrl, resources: Iterable<XdsResource>): boolean {
    const changed = this.replace(role, typeUrl, resources);
    if (changed) this.emit(role, [typeUrl]);
    return changed;
  }

  /** Upserts and removes some resources of one type for one role, in O(changes). */
  applyChanges(role: GatewayRole, typeUrl: TypeUrl, upserts: readonly XdsResource[], removals: readonly string[]): boolean {
    const changed = this.apply(role, typeUrl, upserts, removals);
    if (changed) this.emit(role, [typeUrl]);
    return changed;
  }

  /**
   * Replaces several types of one role at once with one notification. Routes and listeners are applied
   * before secrets, endpoints and clusters, so that removals wait for the referring versions that
   * no longer use them.
   */
  setAll(role: GatewayRole, byType: Partial<Record<TypeUrl, Iterable<XdsResource>>>): boolean {
    const changed: TypeUrl[] = [];
    for (const typeUrl of [...PUSH_ORDER].reverse()) {
      const resources = byType[typeUrl];
      if (resources && this.replace(role, typeUrl, resources)) changed.push(typeUrl);
    }
    if (changed.length > 0) this.emit(role, changed.reverse());
    return changed.length > 0;
  }

  /** The incremental form of setAll: upserts and removals of several types of one role, one notification. */
  applyAll(role: GatewayRole, byType: Partial<Record<TypeUrl, { upserts: readonly XdsResource[]; removals: readonly string[] }>>): boolean {
    const changed: TypeUrl[] = [];
    for (const typeUrl of [...PUSH_ORDER].reverse()) {
      const change = byType[typeUrl];
      if (change && this.apply(role, typeUrl, change.upserts, change.removals)) changed.push(typeUrl);
    }
    if (changed.length > 0) this.emit(role, changed.reverse());
    return changed.length > 0;
  }

  get isComplete(): boolean {
    return this.complete;
  }

  /** The first translation is in: from now on what is absent is removed. Every stream looks at everything again. */
  markComplete(): void {
    if (this.complete) return;
    this.complete = true;
    for (const role of GATEWAY_ROLES) this.notify(role, [...PUSH_ORDER]);
  }

  get(roles: readonly GatewayRole[], typeUrl: TypeUrl, name: string): XdsResource | undefined {
    for (const role of roles) {
      const resource = this.table(role, typeUrl).entries.get(name);
      if (resource) return resource;
    }
    return undefined;
  }

  /** Whether a view is served anything of a type, in O(1) (list() copies every resource). */
  hasAny(roles: readonly GatewayRole[], typeUrl: TypeUrl): boolean {
    return roles.some((role) => this.table(role, typeUrl).entries.size > 0);
  }

  /** Everything served to a view (the union of its roles; a name present in several roles appears once). */
  list(roles: readonly GatewayRole[], typeUrl: TypeUrl): XdsResource[] {
    const unique = [...new Set(roles)];
    if (unique.length === 1) return [...this.table(unique[0]!, typeUrl).entries.values()];
    const byName = new Map<string, XdsResource>();
    for (const role of unique) {
      for (const [name, resource] of this.table(role, typeUrl).entries) if (!byName.has(name)) byName.set(name, resource);
    }
    return [...byName.values()];
  }

  /** The version of what a view is served of one type: the same content gives the same version, anywhere. */
  version(roles: readonly GatewayRole[], typeUrl: TypeUrl): string {
    let bits = 0;
    for (const role of roles) bits |= ROLE_BITS[role];
    let byRoles = this.versions.get(typeUrl);
    if (byRoles === undefined) {
      byRoles = [];
      this.versions.set(typeUrl, byRoles);
    }
    let version = byRoles[bits];
    if (version === undefined) {
      version = formatVersion(GATEWAY_ROLES.filter((role) => (bits & ROLE_BITS[role]) !== 0).map((role) => this.table(role, typeUrl).accumulator.value));
      byRoles[bits] = version;
    }
    return version;
  }

  /** Sequence number of the last change of one role's type, for changedSince. */
  seq(role: GatewayRole, typeUrl: TypeUrl): number {
    return this.table(role, typeUrl).journal.seq;
  }

  /** Names whose served content changed after `seq`; undefined when too old (then compare everything). */
  changedSince(role: GatewayRole, typeUrl: TypeUrl, seq: number): Set<string> | undefined {
    return this.table(role, typeUrl).journal.since(seq);
  }

  /** True while a removed resource is still served for make-before-break. */
  isRetained(role: GatewayRole, typeUrl: TypeUrl, name: string): boolean {
    return this.table(role, typeUrl).retained.has(name);
  }

  /** Removal batches still waiting for ACKs. */
  get pendingRemovals(): number {
    return this.barriers.pending;
  }

  onChange(listener: CacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A stream ACKed `version` of a type (the cache version it was sent as); may release retained removals. */
  streamAcked(streamId: string, roles: readonly GatewayRole[], typeUrl: TypeUrl, version: string): void {
    this.releaseAll(this.barriers.acked(streamId, roles, typeUrl, version, this.current));
  }

  streamClosed(streamId: string): void {
    this.releaseAll(this.barriers.closed(streamId, this.current));
  }

  private replace(role: GatewayRole, typeUrl: TypeUrl, resources: Iterable<XdsResource>): boolean {
    const table = this.table(role, typeUrl);
    const wanted = new Map<string, XdsResource>();
    for (const resource of resources) wanted.set(resource.name, resource);
    const upserts: XdsResource[] = [];
    for (const resource of wanted.values()) {
      const current = table.entries.get(resource.name);
      if (!current || table.retained.has(resource.name) || current.hash !== resource.hash) upserts.push(resource);
    }
    const removals: string[] = [];
    for (const name of table.entries.keys()) if (!table.retained.has(name) && !wanted.has(name)) removals.push(name);
    return this.apply(role, typeUrl, upserts, removals);
  }

  private apply(role: GatewayRole, typeUrl: TypeUrl, upserts: readonly XdsResource[], removals: readonly string[]): boolean {
    const table = this.table(role, typeUrl);
    let changed = false;
    for (const resource of upserts) {
      if (resource.typeUrl !== typeUrl) {
        throw new Error(`xds cache: resource ${resource.name} has type ${resource.typeUrl}, but was given as ${typeUrl}; pass it with its own type`);
      }
      if (table.entries.get(resource.name)?.hash === resource.hash) {
        table.retained.delete(resource.name);
        continue;
      }
      table.put(resource);
      changed = true;
    }
    const retained: RetainedItem[] = [];
    for (const name of removals) {
      if (!table.entries.has(name) || table.retained.has(name)) continue;
      if (RETAINED_TYPES.has(typeUrl)) {
        retained.push({ typeUrl, name });
      } else {
        table.delete(name);
        changed = true;
      }
    }
    if (retained.length > 0) {
      if (this.barriers.open(role, retained, this.current)) {
        for (const item of retained) table.retained.add(item.name);
      } else {
        for (const item of retained) table.delete(item.name);
        changed = true;
      }
    }
    if (changed) {
      // A listener or route change may be the very version a waiting stream already ACKed.
      if (REFERRING_TYPES.includes(typeUrl)) this.pendingRelease.push(...this.barriers.versionsChanged(this.current));
    }
    return changed;
  }

  private releaseAll(barriers: readonly Barrier[]): void {
    const byRole = new Map<GatewayRole, Set<TypeUrl>>();
    for (const barrier of barriers) {
      for (const item of barrier.items) {
        const table = this.table(barrier.role, item.typeUrl);
        if (!table.retained.has(item.name)) continue;
        table.delete(item.name);
        const types = byRole.get(barrier.role) ?? new Set<TypeUrl>();
        types.add(item.typeUrl);
        byRole.set(barrier.role, types);
      }
    }
    for (const [role, types] of byRole) this.notify(role, PUSH_ORDER.filter((t) => types.has(t)));
  }

  private emit(role: GatewayRole, typeUrls: TypeUrl[]): void {
    this.notify(role, typeUrls);
    const released = this.pendingRelease;
    this.pendingRelease = [];
    this.releaseAll(released);
    compactResources(() => this.everything());
  }

  /** Every resource held, of every role and type (retained ones included). */
  private everything(): XdsResource[] {
    const all: XdsResource[] = [];
    for (const byType of this.tables.values()) for (const table of byType.values()) for (const resource of table.entries.values()) all.push(resource);
    return all;
  }

  private notify(role: GatewayRole, typeUrls: TypeUrl[]): void {
    if (typeUrls.length === 0) return;
    for (const listener of this.listeners) listener(role, typeUrls);
  }

  private table(role: GatewayRole, typeUrl: TypeUrl): TypeTable {
    const table = this.tables.get(role)?.get(typeUrl);
    if (!table) throw new Error(`xds cache: unknown role ${String(role)} or type ${String(typeUrl)}; roles are external/local, types those of resource-types.ts`);
    return table;
  }
}
