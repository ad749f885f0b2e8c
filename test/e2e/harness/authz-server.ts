import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** A check request as the authorization server received it. */
export interface AuthorizationCheck {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
  body: string;
}

export interface AuthorizationServer {
  readonly port: number;
  /** Every check received, oldest first. */
  readonly checks: readonly AuthorizationCheck[];
  close(): Promise<void>;
}

/** The test's policy: a path with `/deny` in it is refused, everything else allowed. */
export const isDenied = (path: string): boolean => path.includes('/deny');
export const DENIED_BODY = 'denied by the test authorization server';
/** Set on the request the backend receives when the gRPC server allows it (HTTP: no upstream header is let through). */
export const ALLOWED_HEADER = 'x-test-authorized-by';

/**
 * An HTTP authorization service as Envoy's ext_authz HTTP client asks it: the check request carries the original
 * method, path (with the configured prefix), Host and body; 200 allows, any other status denies, and that answer
 * (status and body) goes back to the client.
 */
export async function startHttpAuthorizationServer(): Promise<AuthorizationServer> {
  const checks: AuthorizationCheck[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      checks.push({ method: req.method ?? '', path, host: req.headers.host ?? '', headers: flatHeaders(req.headers), body: Buffer.concat(chunks).toString('utf8') });
      if (isDenied(path)) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(DENIED_BODY);
      } else {
        res.writeHead(200);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    checks,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface CheckRequest {
  attributes?: { request?: { http?: { method: string; path: string; host: string; headers: Record<string, string>; body: string } } };
}

/**
 * A gRPC authorization service: envoy.service.auth.v3.Authorization/Check, defined by Envoy's own proto (from the
 * deps folder of @grpc/grpc-js-xds), served by grpc-js. An allowed request gets ALLOWED_HEADER added upstream; a
 * denied one PERMISSION_DENIED with a 403 and DENIED_BODY for the client.
 */
export async function startGrpcAuthorizationServer(): Promise<AuthorizationServer> {
  const checks: AuthorizationCheck[] = [];
  const server = new grpc.Server();
  server.addService(authorizationService(), {
    Check: (call: grpc.ServerUnaryCall<CheckRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const http = call.request.attributes?.request?.http;
      const path = http?.path ?? '';
      checks.push({ method: http?.method ?? '', path, host: http?.host ?? '', headers: http?.headers ?? {}, body: http?.body ?? '' });
      callback(null, isDenied(path)
        ? { status: { code: grpc.status.PERMISSION_DENIED }, deniedResponse: { status: { code: 'Forbidden' }, body: DENIED_BODY } }
        : { status: { code: grpc.status.OK }, okResponse: { headers: [{ header: { key: ALLOWED_HEADER, value: 'grpc' } }] } });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    port,
    checks,
    close: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}

function authorizationService(): grpc.ServiceDefinition {
  const require = createRequire(import.meta.url);
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    longs: String, enums: String, defaults: true, oneofs: true,
    includeDirs: ['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate'].map((folder) => join(deps, folder)),
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } } };
  return loaded.envoy.service.auth.v3.Authorization.service;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : String(value)]));
}
