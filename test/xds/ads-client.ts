import { credentials } from '@grpc/grpc-js';
import { AggregatedDiscoveryServiceClient } from 'envoy-proto-ts/envoy/service/discovery/v3/ads';
import { Node } from 'envoy-proto-ts/envoy/config/core/v3/base';
import type {
  DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
} from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';
import type { ClientDuplexStream } from '@grpc/grpc-js';

/** A raw ADS client for protocol tests: send requests, await responses one by one, or assert silence. */
export class AdsTestClient<Request, Response> {
  private readonly queue: Response[] = [];
  private waiter: ((response: Response) => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly client: AggregatedDiscoveryServiceClient, private readonly call: ClientDuplexStream<Request, Response>) {
    call.on('data', (response: Response) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(response);
      } else {
        this.queue.push(response);
      }
    });
    call.on('error', (err: Error) => {
      this.failure = err;
    });
  }

  static sotw(port: number): AdsTestClient<DiscoveryRequest, DiscoveryResponse> {
    const client = new AggregatedDiscoveryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    return new AdsTestClient(client, client.streamAggregatedResources());
  }

  static delta(port: number): AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
    const client = new AggregatedDiscoveryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    return new AdsTestClient(client, client.deltaAggregatedResources());
  }

  send(request: Request): void {
    this.call.write(request);
  }

  /** The next response; fails if none comes within `ms` (a hang guard, not a timing claim). */
  next(ms = 10_000): Promise<Response> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no xDS response within ${ms} ms${this.failure ? `: ${this.failure.message}` : ''}`));
      }, ms);
      this.waiter = (response) => {
        clearTimeout(timer);
        resolve(response);
      };
    });
  }

  /** Asserts that the server sends nothing for `ms`. */
  async expectNoResponse(ms = 300): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.queue.length > 0) throw new Error(`expected no xDS response, got ${this.queue.length}: ${JSON.stringify(this.queue[0]).slice(0, 500)}`);
  }

  /** Stops reading responses, so that they back up in HTTP/2 flow control. */
  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  /** Responses received and not yet taken with next(). */
  get buffered(): number {
    return this.queue.length;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export function node(id: string, cluster: string, metadata?: Record<string, unknown>): Node {
  return Node.fromPartial({ id, cluster, metadata, userAgentName: 'ferry-test' });
}
