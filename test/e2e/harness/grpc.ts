import * as grpc from '@grpc/grpc-js';

/** What the test gRPC service answers: who answered and the request metadata it received. */
export interface GrpcAnswer {
  backend: string;
  message: string;
  /** Position in a server stream (0 for unary). */
  index: number;
  metadata: Record<string, string>;
}

export interface GrpcRequest {
  message: string;
  /** For Count: how many messages to stream back. */
  count?: number;
  /** For Count: pause between streamed messages. */
  intervalMs?: number;
}

const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
const deserialize = <T>(bytes: Buffer): T => JSON.parse(bytes.toString('utf8')) as T;

/**
 * A service defined at runtime (no .proto): JSON messages, one unary method and one server-streaming
 * method, under a path like a generated service's.
 */
const ECHO_SERVICE = {
  Echo: {
    path: '/ferry.test.EchoService/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize<GrpcRequest>,
    responseSerialize: serialize,
    responseDeserialize: deserialize<GrpcAnswer>,
  },
  Count: {
    path: '/ferry.test.EchoService/Count',
    requestStream: false,
    responseStream: true,
    requestSerialize: serialize,
    requestDeserialize: deserialize<GrpcRequest>,
    responseSerialize: serialize,
    responseDeserialize: deserialize<GrpcAnswer>,
  },
} satisfies grpc.ServiceDefinition;

export interface GrpcBackend {
  readonly name: string;
  readonly port: number;
  /** Calls received so far. */
  readonly calls: number;
  close(): Promise<void>;
}

function metadataRecord(metadata: grpc.Metadata): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata.getMap()).map(([key, value]) => [key, value.toString()]));
}

/** A grpc-js server on 127.0.0.1 (OS-chosen port) serving the echo service. */
export async function startGrpcBackend(name: string): Promise<GrpcBackend> {
  let calls = 0;
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<GrpcRequest, GrpcAnswer>, callback: grpc.sendUnaryData<GrpcAnswer>) => {
      calls += 1;
      callback(null, { backend: name, message: call.request.message, index: 0, metadata: metadataRecord(call.metadata) });
    },
    Count: (call: grpc.ServerWritableStream<GrpcRequest, GrpcAnswer>) => {
      calls += 1;
      const { message, count = 3, intervalMs = 0 } = call.request;
      let index = 0;
      const next = (): void => {
        if (call.cancelled) return;
        if (index === count) {
          call.end();
          return;
        }
        call.write({ backend: name, message, index, metadata: metadataRecord(call.metadata) });
        index += 1;
        setTimeout(next, intervalMs);
      };
      next();
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    name,
    port,
    get calls() {
      return calls;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export interface EchoClient {
  echo(request: GrpcRequest): Promise<GrpcAnswer>;
  /** Collects every streamed answer until the server ends the stream. */
  count(request: GrpcRequest): Promise<GrpcAnswer[]>;
  close(): void;
}

interface GenericEchoClient extends grpc.Client {
  Echo(request: GrpcRequest, callback: (error: grpc.ServiceError | null, answer?: GrpcAnswer) => void): grpc.ClientUnaryCall;
  Count(request: GrpcRequest): grpc.ClientReadableStream<GrpcAnswer>;
}

/**
 * A grpc-js client of the echo service at 127.0.0.1:port, sending `authority` as :authority: plaintext
 * (h2c) by default, or TLS with `authority` as SNI when the server's (self-signed) certificate is given.
 */
export function echoClient(port: number, authority: string, options: { trustedCertificate?: string } = {}): EchoClient {
  const Constructor = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'EchoService');
  const credentials = options.trustedCertificate ? grpc.credentials.createSsl(Buffer.from(options.trustedCertificate)) : grpc.credentials.createInsecure();
  const channelOptions = { 'grpc.default_authority': authority, ...(options.trustedCertificate ? { 'grpc.ssl_target_name_override': authority } : {}) };
  const client = new Constructor(`127.0.0.1:${port}`, credentials, channelOptions) as unknown as GenericEchoClient;
  return {
    echo: (request) => new Promise((resolve, reject) => {
      client.Echo(request, (error, answer) => (error || !answer ? reject(error ?? new Error('Echo: empty answer')) : resolve(answer)));
    }),
    count: (request) => new Promise((resolve, reject) => {
      const answers: GrpcAnswer[] = [];
      const stream = client.Count(request);
      stream.on('data', (answer: GrpcAnswer) => answers.push(answer));
      stream.on('error', reject);
      stream.on('end', () => resolve(answers));
    }),
    close: () => client.close(),
  };
}
