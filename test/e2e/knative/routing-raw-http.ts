import { connect } from 'node:net';

/**
 * One raw HTTP/1.1 exchange on a fresh connection, for requests an ordinary client does not send: absolute-form
 * request lines (`GET http://host/ HTTP/1.1`), repeated headers. `requestText` should say `Connection: close`.
 */
export function rawRequest(port: number, requestText: string): Promise<{ status: number; text: string; body: string }> {
  return new Promise((resolve, reject) => {
    // write, not end: Envoy drops a request whose client half-closes before the answer.
    const socket = connect(port, '127.0.0.1', () => socket.write(requestText));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A complete answer: close our side, or Envoy waits its delayed-close time (1 s) for us to do it.
      if (answerComplete(Buffer.concat(chunks).toString('utf8'))) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const bodyStart = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, body: bodyStart < 0 ? '' : text.slice(bodyStart + 4) });
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
  });
}

/** The headers and a Content-Length body have arrived (answers without a length end when Envoy closes). */
function answerComplete(text: string): boolean {
  const bodyStart = text.indexOf('\r\n\r\n');
  if (bodyStart < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, bodyStart))?.[1];
  return length !== undefined && Buffer.byteLength(text.slice(bodyStart + 4)) >= Number(length);
}
