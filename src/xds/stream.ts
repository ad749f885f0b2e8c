import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Node } from 'envoy-proto-ts/envoy/config/core/v3/base';
import type { Status } from 'envoy-proto-ts/google/rpc/status';
import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';
import type { XdsCache } from './cache.js';
import { edsServiceName } from './eds-names.js';
import type { NackEntry, NackStore } from './nacks.js';
import type { XdsResource } from './resource.js';
import { PUSH_ORDER, REFERRING_TYPES, SHORT_NAME, TypeUrl, isTypeUrl } from './resource-types.js';
import { rolesForNode, type GatewayRole } from './roles.js';
import type { Rejection, StreamInfo, StreamTypeInfo, XdsProtocol } from './stream-info.js';

export interface StreamContext {
  readonly cache: XdsCache;
  readonly logger: Logger;
  readonly metrics: FerryMetrics | undefined;
  readonly nackStore: NackStore;
  /** Longest time Listener/Route updates wait for clusters to be ACKed and EDS-subscribed. */
  readonly holdMs: number;
  /** Clusters that a delta stream sends only when the gateway names them (XdsServerOptions.onDemandCluster). */
  readonly onDemandCluster?: (name: string) => boolean;
  /** Called when what a stream holds may have changed (connect, ACK, NACK, close), for sync tracking. */
  readonly streamsChanged?: () => void;
}

/**
 * One resource type on one stream: the subscription, what the gateway holds, and the last exchange. It is its own
 * StreamTypeInfo, so that sync checks (after every ACK, and the runner's polls) read it without copying.
 */
export interface TypeState extends StreamTypeInfo {
  readonly typeUrl: TypeUrl;
  wildcard: boolean;
  readonly subscribed: Set<string>;
  /** Something may need sending. */
  dirty: boolean;
  /** A wildcard type's first answer is due even when empty: Envoy waits for it to finish initialising. */
  initialResponseDue: boolean;
  /** What the gateway holds as far as Ferry knows: name → content hash. */
  readonly known: Map<string, string>;
  sentNonce: string;
  sentVersion: string;
  sentAt: number;
  sentNames: string[];
  /** The names whose content in the last response was new to the gateway: what a NACK of it can be about. */
  sentChanged: string[];
  awaitingAck: boolean;
  ackedVersion: string;
  /** The newest cache version whose content, for this stream, is what was last sent. */
  equivalentVersion: string;
  lastNack: string | undefined;
  readonly rejected: Map<string, Rejection>;
  probe: ProbeRound | undefined;
}

/**
 * A NACKed response carried several new resources: they are sent again one per response, each answered before the
 * next (and carrying nothing else new), so that the NACK that comes back names the rejected one.
 */
export interface ProbeRound {
  /** Not sent again yet, or sent and not answered yet. */
  readonly pending: Set<string>;
  /** The content hashes of the rejected response, by name. */
  readonly hashes: ReadonlyMap<string, string>;
  readonly message: string;
  /** A probe was rejected: the round found what the NACK was about. */
  found: boolean;
}

/** A response ready to write, and what it changes in what the gateway holds. */
export interface Composed {
  readonly bytes: Buffer;
  readonly sent: readonly XdsResource[];
  readonly removed: readonly string[];
  /** Changes were held back (one at a time): the gateway will not hold the version's content once it ACKs this. */
  readonly partial?: boolean;
}

const REFERRING = new Set<TypeUrl>(REFERRING_TYPES);
const NO_NAMES: ReadonlySet<string> = new Set();
/** During the first pass: the endpoints of clusters already sent go out before the next cluster batch. */
const FIRST_PASS_ORDER: readonly TypeUrl[] = [TypeUrl.Endpoint, ...PUSH_ORDER.filter((typeUrl) => typeUrl !== TypeUrl.Endpoint)];

/**
 * What SotW and delta streams share: identifying the node, ACK/NACK accounting, push order, holding
 * listeners and routes until clusters are ACKed and EDS-subscribed, write backpressure.
 */
export abstract class XdsStream<Request extends { node?: Node | undefined; typeUrl: string }> {
  readonly types = new Map<TypeUrl, TypeState>();
  readonly connectedAt = new Date();
  readonly peer: string;
  nodeId = '';
  nodeCluster = '';
  roles: GatewayRole[] = [];
  protected readonly log: Logger;
  private blocked = false;
  private flushQueued = false;
  private closed = false;
  private holdSince: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** EDS names of clusters just sent that the gateway has not subscribed to yet. */
  private readonly pendingEds = new Set<string>();
  private nonces = 0;
  /** What info() answers, made again only when the node is identified or a type is added. */
  private described: StreamInfo | undefined;

  constructor(
    readonly id: string,
    readonly protocol: XdsProtocol,
    private readonly call: ServerDuplexStream<Request, Buffer>,
    protected readonly ctx: StreamContext,
    private readonly onClose: (stream: XdsStream<Request>) => void,
  ) {
    this.peer = call.getPeer();
    this.log = ctx.logger.child({ stream: id, peer: this.peer, protocol });
    call.on('data', (request: Request) => this.receive(request));
    call.on('end', () => this.close());
    call.on('error', (err: Error) => {
      this.log.debug({ err }, 'xDS stream error');
      this.close();
    });
    call.on('cancelled', () => this.close());
    call.on('close', () => this.close());
  }

  /** The cache changed for a role this stream serves. */
  cacheChanged(role: GatewayRole, typeUrls: readonly TypeUrl[]): void {
    for (const typeUrl of typeUrls) {
      const state = this.types.get(typeUrl);
      if (!state) continue;
      this.noteChange(state, role);
      state.dirty = true;
    }
    this.scheduleFlush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.holdTimer);
    for (const role of this.roles) this.ctx.metrics?.connectedGateways.dec({ role, protocol: this.protocol });
    this.ctx.cache.streamClosed(this.id);
    this.ctx.nackStore.forget(this.nodeId);
    this.call.end();
    this.onClose(this);
    this.log.info({ node: this.nodeId }, 'gateway disconnected');
    this.ctx.streamsChanged?.();
  }

  /** A live view: its types are the stream's own states, in push order. */
  info(): StreamInfo {
    this.described ??= {
      id: this.id, nodeId: this.nodeId, nodeCluster: this.nodeCluster, roles: this.roles, peer: this.peer,
      protocol: this.protocol, connectedAt: this.connectedAt,
      types: PUSH_ORDER.flatMap((typeUrl) => this.types.get(typeUrl) ?? []),
    };
    return this.described;
  }

  /** Handles one request of a known type, after the node is identified. */
  protected abstract handle(request: Request, state: TypeState, first: boolean): void;
  /** Records which names of a type changed in the cache for one role. */
  protected abstract noteChange(state: TypeState, role: GatewayRole): void;
  /**
   * Builds the response the stream needs now, or undefined when it holds everything already. While the cache is
   * incomplete (Ferry's first translation), it must not remove anything from the gateway.
   */
  protected abstract compose(state: TypeState, version: string, nonce: string): Composed | undefined;
  /** Whether the protocol can send part of a type (delta) while the cache is incomplete; SotW cannot. */
  protected abstract readonly sendsWhileIncomplete: boolean;
  /** Whether changed resources of the type can be held back (sent one at a time) without removing them. */
  protected abstract canHoldBack(state: TypeState): boolean;
  /** The gateway may not hold these names as `known` says any more: look at them again on the next compose. */
  protected abstract lookAgain(state: TypeState, names: readonly string[]): void;

  protected scheduleFlush(): void {
    if (this.flushQueued || this.closed) return;
    // Most requests are ACKs that leave nothing to send: no event-loop turn for them.
    if (!this.anyDirty()) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private anyDirty(): boolean {
    for (const state of this.types.values()) if (state.dirty) return true;
    return false;
  }

  /**
   * Whether a response may carry only one new resource of the type; if so, the names to take first (empty: any). While
   * a probe round runs; and for Secrets once the gateway took its first ones: Envoy's SDS does not apply again a content
   * it once rejected (it ACKs it), so a rejected update of several Secrets could not be probed afterwards, while
   * certificates change rarely and one by one.
   */
  protected oneAtATime(state: TypeState): ReadonlySet<string> | undefined {
    if (state.probe && state.probe.pending.size > 0) return state.probe.pending;
    if (state.typeUrl === TypeUrl.Secret && state.ackedVersion !== '' && this.canHoldBack(state)) return NO_NAMES;
    return undefined;
  }

  /**
   * The request answered the latest response: an ACK, or a NACK when error_detail is set. A NACK is tied to the
   * resources it is about (see culprits); those are rejected, the rest of the response counts as taken, and other
   * updates keep flowing. A rejection ends when the gateway ACKs a later content of the resource.
   */
  protected answered(state: TypeState, error: Status | undefined): void {
    if (!state.awaitingAck) return;
    state.awaitingAck = false;
    const type = SHORT_NAME[state.typeUrl];
    this.ctx.metrics?.pushToAck.observe({ type }, (Date.now() - state.sentAt) / 1000);
    if (!error) {
      this.ctx.metrics?.acks.inc({ type });
      // A rejection ends with the ACK of another content (Envoy's SDS ACKs a rejected one sent again, without applying it).
      const over = state.sentNames.filter((name) => state.rejected.get(name)?.hash !== state.known.get(name));
      for (const name of over) state.rejected.delete(name);
      for (const name of state.sentNames) state.probe?.pending.delete(name);
      this.taken(state, over);
      this.endProbeRound(state);
      return;
    }
    this.ctx.metrics?.nacks.inc({ type });
    // Rejected clusters are not created, so their EDS subscriptions will never come.
    if (state.typeUrl === TypeUrl.Cluster) this.pendingEds.clear();
    const culprits = this.culprits(state, error.message);
    if (culprits === undefined) {
      state.lastNack = error.message;
      this.ctx.nackStore.record(this.nackEntry(state, state.sentChanged.length > 0 ? state.sentChanged : state.sentNames, error.message));
      this.log.warn({ node: this.nodeId, type, version: state.sentVersion, resources: state.sentChanged, error: error.message },
        'gateway rejected an xDS response (NACK); it keeps the last good version; sending its new resources one at a time to find the rejected ones');
      this.ctx.streamsChanged?.();
      return;
    }
    this.reject(state, culprits.map((name) => [name, state.known.get(name) ?? '']), error.message);
    if (state.probe) state.probe.found = true;
    const rejected = new Set(culprits);
    this.taken(state, state.sentNames.filter((name) => !rejected.has(name)));
    this.endProbeRound(state);
  }

  /**
   * What a NACK is about. The content the gateway rejected before, when the response carried it again (a SotW response
   * of a wildcard type carries every resource; Envoy applies the others). Else the resources new in the response: one
   * is the culprit; of several, those Envoy's message names; else they are probed one at a time where the protocol can
   * hold changes back (undefined: not known yet), and all blamed where it cannot.
   */
  private culprits(state: TypeState, message: string): string[] | undefined {
    const again = state.sentNames.filter((name) => state.rejected.get(name)?.hash === state.known.get(name));
    if (again.length > 0) return again;
    const suspects = state.sentChanged;
    if (suspects.length === 0) return undefined;
    if (suspects.length === 1) return suspects;
    // Envoy names the resource in some messages (CDS: "Error adding/updating cluster(s) <name>: ...").
    const named = suspects.filter((name) => mentions(message, name));
    if (named.length > 0) return named;
    if (!this.canHoldBack(state)) return suspects;
    state.probe = { pending: new Set(suspects), hashes: new Map(suspects.map((name) => [name, state.known.get(name) ?? ''])), message, found: false };
    for (const name of suspects) state.known.delete(name);
    this.lookAgain(state, suspects);
    state.dirty = true;
    return undefined;
  }

  /**
   * A probe round whose every probe was ACKed: the gateway took each alone without applying it (Envoy's SDS does so
   * with a content it once rejected), so which one it rejected is not known. All are reported, saying so, rather than
   * none: a KIngress must not look Ready on a content its gateway never applied.
   */
  private endProbeRound(state: TypeState): void {
    const round = state.probe;
    if (!round || round.pending.size > 0) return;
    state.probe = undefined;
    if (round.found) return;
    const unchanged = [...round.hashes].filter(([name, hash]) => this.ctx.cache.get(this.roles, state.typeUrl, name)?.hash === hash);
    if (unchanged.length === 0) return;
    this.reject(state, unchanged, `${round.message} (the gateway rejected an update of ${round.hashes.size} ${SHORT_NAME[state.typeUrl]} together and took each alone afterwards; which of them it does not apply is not known)`);
    this.ctx.streamsChanged?.();
  }

  private reject(state: TypeState, rejected: ReadonlyArray<readonly [string, string]>, message: string): void {
    const time = new Date();
    for (const [name, hash] of rejected) {
      state.rejected.set(name, { hash, message, time });
      this.ctx.nackStore.record(this.nackEntry(state, [name], message, time));
    }
    this.log.warn({ node: this.nodeId, type: SHORT_NAME[state.typeUrl], version: state.sentVersion, rejected: rejected.map(([name]) => name), error: message },
      'gateway rejected resources (NACK); it keeps their last good version, and the other updates keep flowing');
  }

  private nackEntry(state: TypeState, resourceNames: readonly string[], message: string, time = new Date()): NackEntry {
    return { nodeId: this.nodeId, roles: this.roles, typeUrl: state.typeUrl, version: state.sentVersion, nonce: state.sentNonce, resourceNames, message, time };
  }

  /** The gateway holds what the last response carried, except what it rejected. */
  private taken(state: TypeState, names: readonly string[]): void {
    state.lastNack = undefined;
    this.ctx.nackStore.accepted(this.nodeId, state.typeUrl, names);
    // A response that held changes back leaves the gateway behind the version it was sent under.
    if (state.equivalentVersion !== '') {
      state.ackedVersion = state.equivalentVersion;
      this.ctx.cache.streamAcked(this.id, this.roles, state.typeUrl, state.ackedVersion);
    }
    this.ctx.streamsChanged?.();
  }

  protected newState(typeUrl: TypeUrl): TypeState {
    const state: TypeState = {
      typeUrl, wildcard: false, subscribed: new Set(), dirty: false, initialResponseDue: false, known: new Map(), sentNonce: '',
      sentVersion: '', sentAt: 0, sentNames: [], sentChanged: [], awaitingAck: false, ackedVersion: '',
      equivalentVersion: '', lastNack: undefined, rejected: new Map(), probe: undefined,
    };
    this.types.set(typeUrl, state);
    this.described = undefined;
    return state;
  }

  /** The gateway holds this content already (e.g. it reconnected with the current version). */
  protected adoptAsAcked(state: TypeState, version: string): void {
    state.sentVersion = version;
    state.equivalentVersion = version;
    state.ackedVersion = version;
    this.ctx.cache.streamAcked(this.id, this.roles, state.typeUrl, version);
  }

  private receive(request: Request): void {
    if (this.closed) return;
    try {
      if (this.roles.length === 0) this.identify(request.node);
      if (!isTypeUrl(request.typeUrl)) {
        this.log.warn({ node: this.nodeId, type: request.typeUrl }, 'gateway asked for a resource type Ferry does not serve; ignored');
        return;
      }
      const existing = this.types.get(request.typeUrl);
      const state = existing ?? this.newState(request.typeUrl);
      this.handle(request, state, existing === undefined);
    } catch (err) {
      this.log.error({ err, node: this.nodeId }, 'failed to handle an xDS request; closing the stream so that the gateway reconnects');
      this.call.destroy(err instanceof Error ? err : new Error(String(err)));
      this.close();
    }
  }

  private identify(node: Node | undefined): void {
    this.nodeId = node?.id ?? '';
    this.nodeCluster = node?.cluster ?? '';
    this.roles = rolesForNode(node);
    this.described = undefined;
    for (const role of this.roles) this.ctx.metrics?.connectedGateways.inc({ role, protocol: this.protocol });
    this.log.info({ node: this.nodeId, cluster: this.nodeCluster, roles: this.roles }, 'gateway connected');
    this.ctx.streamsChanged?.();
  }

  private flush(): void {
    if (this.closed || this.blocked) return;
    for (const typeUrl of this.ctx.cache.isComplete ? PUSH_ORDER : FIRST_PASS_ORDER) {
      const state = this.types.get(typeUrl);
      if (!state?.dirty) continue;
      if (!this.ctx.cache.isComplete && (!this.sendsWhileIncomplete || (typeUrl === TypeUrl.Cluster && this.clustersInFlight()))) continue;
      if (REFERRING.has(typeUrl) && this.holdReferring()) continue;
      // One new resource at a time: each is answered before the next goes (only the answer to the latest response counts).
      if (state.awaitingAck && this.oneAtATime(state)) continue;
      state.dirty = false;
      this.push(state);
      if (this.blocked) return;
    }
  }

  private push(state: TypeState): void {
    const version = this.ctx.cache.version(this.roles, state.typeUrl);
    const nonce = String(++this.nonces);
    const composed = this.compose(state, version, nonce);
    if (!this.ctx.cache.isComplete && !composed) return; // the first answer waits for the complete cache
    state.initialResponseDue = false;
    if (!composed) {
      state.equivalentVersion = version;
      // Nothing to send and the gateway accepted the last response, or (delta) reconnected saying it holds exactly
      // this content: it holds this version too. Without the second case a gateway that outlived a Ferry restart
      // would stay STALE (never synced) until some change of the type made a response due.
      const holds = state.ackedVersion !== '' || state.known.size > 0;
      if (!state.awaitingAck && state.lastNack === undefined && holds && state.ackedVersion !== version) {
        state.ackedVersion = version;
        this.ctx.cache.streamAcked(this.id, this.roles, state.typeUrl, version);
        this.ctx.streamsChanged?.();
      }
      return;
    }
    if (state.typeUrl === TypeUrl.Cluster) this.expectEdsSubscriptions(composed.sent, state.known);
    state.sentChanged = composed.sent.filter((resource) => state.known.get(resource.name) !== resource.hash).map((resource) => resource.name);
    for (const resource of composed.sent) state.known.set(resource.name, resource.hash);
    for (const name of composed.removed) state.known.delete(name);
    state.sentNonce = nonce;
    state.sentVersion = version;
    state.equivalentVersion = composed.partial ? '' : version;
    // What was held back goes once this response is answered.
    if (composed.partial) state.dirty = true;
    state.sentAt = Date.now();
    state.awaitingAck = true;
    state.sentNames = composed.sent.map((r) => r.name).concat(composed.removed);
    const type = SHORT_NAME[state.typeUrl];
    this.ctx.metrics?.pushes.inc({ type });
    this.ctx.metrics?.pushedBytes.inc({ type }, composed.bytes.length);
    this.log.debug({ node: this.nodeId, type, version, nonce, resources: composed.sent.length, removed: composed.removed.length }, 'xDS response sent');
    if (!this.call.write(composed.bytes)) {
      this.blocked = true;
      this.call.once('drain', () => {
        this.blocked = false;
        this.scheduleFlush();
      });
    }
  }

  /**
   * While Ferry's first pass hands over batches, the next cluster batch waits until the last one is ACKed and its
   * endpoints are subscribed, sent (FIRST_PASS_ORDER sends endpoints before clusters) and ACKed: Envoy then
   * finishes initialising on the first batch while later batches come (clusters that arrive during its
   * initialisation would make it wait for them all before it asks for listeners).
   */
  private clustersInFlight(): boolean {
    return this.types.get(TypeUrl.Cluster)?.awaitingAck === true || this.edsPending() || this.types.get(TypeUrl.Endpoint)?.awaitingAck === true;
  }

  /** Whether clusters sent are still waiting for the gateway to subscribe to their endpoints. */
  private edsPending(): boolean {
    const endpoints = this.types.get(TypeUrl.Endpoint);
    for (const name of this.pendingEds) if (endpoints?.wildcard || endpoints?.subscribed.has(name)) this.pendingEds.delete(name);
    return this.pendingEds.size > 0;
  }

  private expectEdsSubscriptions(sent: readonly XdsResource[], known: ReadonlyMap<string, string>): void {
    const endpoints = this.types.get(TypeUrl.Endpoint);
    for (const cluster of sent) {
      if (known.get(cluster.name) === cluster.hash) continue;
      const edsName = edsServiceName(cluster);
      if (edsName === undefined) continue;
      this.pendingEds.add(edsName);
      // Envoy warms an updated EDS cluster again and waits for its endpoints, yet asks nothing (it holds the name):
      // they are sent again, or the new cluster would take over only at its initial fetch timeout (15 s).
      if (known.has(cluster.name) && endpoints?.known.delete(edsName)) {
        this.lookAgain(endpoints, [edsName]);
        endpoints.dirty = true;
      }
    }
  }

  /**
   * Listener and Route updates wait while a cluster response is un-ACKed or new EDS clusters are not yet
   * subscribed, so that Envoy never routes to a warming cluster; bounded by holdMs so nothing deadlocks.
   */
  private holdReferring(): boolean {
    const clusters = this.types.get(TypeUrl.Cluster);
    // During Ferry's first pass the cache gets clusters and the routes that use them batch by batch, while this
    // stream sends one cluster batch at a time: routes wait until it has sent every cluster the cache has.
    const incomplete = !this.ctx.cache.isComplete;
    const waiting = clusters?.awaitingAck === true || this.edsPending() || (incomplete && clusters?.dirty === true);
    const now = Date.now();
    if (!waiting) {
      this.holdSince = undefined;
      return false;
    }
    // No time bound then: the first pass ends within seconds, and the bound applies again after it.
    if (incomplete) return true;
    this.holdSince ??= now;
    const left = this.holdSince + this.ctx.holdMs - now;
    if (left <= 0) {
      this.log.debug({ node: this.nodeId, pendingEds: [...this.pendingEds] }, 'clusters not ACKed or EDS-subscribed in time; sending listeners and routes anyway');
      this.pendingEds.clear();
      this.holdSince = undefined;
      return false;
    }
    if (!this.holdTimer) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.scheduleFlush();
      }, left);
    }
    return true;
  }
}

/** Whether a message names a resource: the name, not within a longer one (`a:80` in `a:8080`; `a` in `ab`, `b/a`). */
function mentions(message: string, name: string): boolean {
  for (let at = message.indexOf(name); at >= 0; at = message.indexOf(name, at + 1)) {
    const after = message.slice(at + name.length, at + name.length + 2);
    const continues = /^[\w./-]/.test(after) || /^:\w/.test(after);
    if (!continues && !/[\w./:-]/.test(message[at - 1] ?? '')) return true;
  }
  return false;
}
