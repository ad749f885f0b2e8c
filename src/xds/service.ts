import type { ServiceDefinition } from '@grpc/grpc-js';
import { AggregatedDiscoveryServiceService } from 'envoy-proto-ts/envoy/service/discovery/v3/ads';
import { DeltaDiscoveryRequest, DiscoveryRequest } from 'envoy-proto-ts/envoy/service/discovery/v3/discovery';

const passThrough = (bytes: Buffer): Buffer => bytes;

/**
 * AggregatedDiscoveryService with requests decoded by the generated types and responses written as
 * pre-encoded bytes (see wire.ts), so that a response is assembled from cached resource bytes.
 */
export const AdsService = {
  streamAggregatedResources: {
    path: AggregatedDiscoveryServiceService.streamAggregatedResources.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: (request: DiscoveryRequest) => Buffer.from(DiscoveryRequest.encode(request).finish()),
    requestDeserialize: (bytes: Buffer) => DiscoveryRequest.decode(bytes),
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
  deltaAggregatedResources: {
    path: AggregatedDiscoveryServiceService.deltaAggregatedResources.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: (request: DeltaDiscoveryRequest) => Buffer.from(DeltaDiscoveryRequest.encode(request).finish()),
    requestDeserialize: (bytes: Buffer) => DeltaDiscoveryRequest.decode(bytes),
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
} satisfies ServiceDefinition;
