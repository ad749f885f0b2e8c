import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { Server as GrpcServer, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';

/** One span as a collector receives it: its name, its attributes and its resource's, values as strings. */
export interface ReceivedSpan {
  name: string;
  /** Hex, as in a traceparent header. */
  traceId: string;
  attributes: Record<string, string>;
  resource: Record<string, string>;
  /** How it came: 'grpc', or the HTTP request's content type. */
  via: string;
}

export interface OtlpReceiver {
  port: number;
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; intValue?: unknown; boolValue?: boolean; doubleValue?: number };
}
interface ExportRequest {
  resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<{ name?: string; traceId?: string; attributes?: KeyValue[] }> }> }>;
}
interface ProtoMessage {
  decode(bytes: Uint8Array): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  toObject(message: unknown, options?: Record<string, unknown>): ExportRequest;
  fromObject(object: unknown): unknown;
}

/** OpenTelemetry's own generated OTLP messages (protobufjs), from its npm package. */
const otlp = (createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoMessage; ExportTraceServiceResponse: ProtoMessage } } } } };
}).opentelemetry.proto.collector.trace.v1;

function flatten(attributes: KeyValue[] | undefined): Record<string, string> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, String(value?.stringValue ?? value?.intValue ?? value?.boolValue ?? value?.doubleValue ?? '')]));
}

function spansOf(request: ExportRequest, via: string): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = flatten(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map((span) => ({
      name: span.name ?? '', traceId: hexTraceId(span.traceId, via), attributes: flatten(span.attributes), resource, via,
    })));
  });
}

/** Protobuf's bytes come base64-encoded from protobufjs; OTLP/JSON writes trace ids in hex already. */
function hexTraceId(traceId: string | undefined, via: string): string {
  if (!traceId) return '';
  return via === 'application/json' ? traceId.toLowerCase() : Buffer.from(traceId, 'base64').toString('hex');
}

const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: unknown) => Buffer.from(otlp.ExportTraceServiceRequest.encode(message).finish()),
    requestDeserialize: (bytes: Buffer) => otlp.ExportTraceServiceRequest.toObject(otlp.ExportTraceServiceRequest.decode(bytes), { longs: String, bytes: String }),
    responseSerialize: (message: unknown) => Buffer.from(otlp.ExportTraceServiceResponse.encode(message).finish()),
    responseDeserialize: (bytes: Buffer) => otlp.ExportTraceServiceResponse.decode(bytes),
  },
};

/** An OTLP/gRPC trace collector on loopback (h2c), as an OpenTelemetry collector's otlp receiver on 4317. */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server = new GrpcServer();
  server.addService(TRACE_SERVICE, {
    Export: (call: { request: ExportRequest }, callback: (error: { code: number; details: string } | null, response?: unknown) => void) => {
      spans.push(...spansOf(call.request, 'grpc'));
      callback(null, otlp.ExportTraceServiceResponse.fromObject({}));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { port, spans, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

/**
 * An OTLP/HTTP trace collector on loopback, as an OpenTelemetry collector's otlp receiver on 4318: protobuf or JSON
 * posted to `path`; anything else is answered 404 / 415 and not counted.
 */
export async function startOtlpHttpReceiver(path = '/v1/traces'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (req.method !== 'POST' || req.url !== path) {
        res.writeHead(404).end();
        return;
      }
      if (type === 'application/x-protobuf') {
        spans.push(...spansOf(otlp.ExportTraceServiceRequest.toObject(otlp.ExportTraceServiceRequest.decode(body), { longs: String, bytes: String }), type));
        res.writeHead(200, { 'content-type': type }).end(Buffer.from(otlp.ExportTraceServiceResponse.encode({}).finish()));
      } else if (type === 'application/json') {
        spans.push(...spansOf(JSON.parse(body.toString('utf8')) as ExportRequest, type));
        res.writeHead(200, { 'content-type': type }).end('{}');
      } else {
        res.writeHead(415).end(`unsupported content type ${type}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
