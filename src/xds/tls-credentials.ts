import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '../log.js';
import type { FerryMetrics } from '../metrics.js';

/** The files of the xDS server's mutual TLS (PEM): its certificate chain and key, and the CA(s) that sign gateways' client certificates. */
export interface XdsTlsFiles {
  cert: string;
  key: string;
  clientCa: string;
}

/** What a log may say about the server certificate in use: public parts only. */
export interface XdsCertificateSummary {
  subject: string;
  notAfter: string;
  fingerprint256: string;
}

interface LoadedTls {
  options: SecureContextOptions;
  summary: XdsCertificateSummary;
  expiresAt: Date;
  /** Of the three files' bytes: a file event that changed nothing reloads nothing. */
  digest: string;
}

/**
 * A Kubernetes Secret volume swaps a symlink (..data) when the Secret changes, and a `cp` writes a file in several
 * steps: one reload after the events settle.
 */
const RELOAD_SETTLE_MS = 200;

const FLAGS: Record<keyof XdsTlsFiles, string> = { cert: '--xds-tls-cert', key: '--xds-tls-key', clientCa: '--xds-tls-client-ca' };

/**
 * The xDS server's certificate, key and client CA, read from files and read again when they change. A change that
 * does not load (unreadable, not PEM, a key of another certificate) keeps the last good set. Nothing here ever puts
 * key material in an error or a log line: errors name the file and what is wrong with it.
 */
export class XdsTlsCredentials {
  private loaded: LoadedTls;
  private readonly watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private lastFailedDigest: string | undefined;
  private readonly logger: Logger;

  constructor(private readonly files: XdsTlsFiles, logger: Logger, private readonly metrics?: FerryMetrics) {
    this.logger = logger.child({ component: 'xds-tls' });
    this.loaded = loadXdsTls(files);
    this.logger.info({ ...this.fileNames(), certificate: this.loaded.summary }, 'xDS mutual TLS: certificate and client CA loaded');
    this.recordExpiry();
  }

  /** cert, key and ca for tls.createServer / setSecureContext. */
  get secureContextOptions(): SecureContextOptions {
    return this.loaded.options;
  }

  /** Watches the files' folders and calls `reloaded` with each new set that loads. */
  watch(reloaded: (options: SecureContextOptions) => void): void {
    const folders = new Set(Object.values(this.files).map((file) => dirname(file)));
    for (const folder of folders) {
      const watcher = watch(folder, { persistent: false }, () => {
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => this.reload(reloaded), RELOAD_SETTLE_MS);
      });
      watcher.on('error', (err) => this.logger.warn({ folder, err: err.message }, 'xDS mutual TLS: cannot watch the folder any more; restart Ferry to pick up new certificates'));
      this.watchers.push(watcher);
    }
  }

  close(): void {
    clearTimeout(this.reloadTimer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }

  private reload(reloaded: (options: SecureContextOptions) => void): void {
    let next: LoadedTls;
    try {
      const contents = readXdsTlsFiles(this.files);
      const digest = digestOf(contents);
      if (digest === this.loaded.digest || digest === this.lastFailedDigest) return;
      try {
        next = parseXdsTls(this.files, contents);
      } catch (error) {
        this.lastFailedDigest = digest;
        throw error;
      }
    } catch (error) {
      this.metrics?.errors.inc({ reason: 'xds_tls_reload' });
      this.logger.error({ ...this.fileNames(), err: (error as Error).message, inUse: this.loaded.summary },
        'xDS mutual TLS: the changed files do not load; new connections keep the certificate in use until they are fixed');
      return;
    }
    this.loaded = next;
    this.lastFailedDigest = undefined;
    reloaded(next.options);
    this.recordExpiry();
    this.logger.info({ ...this.fileNames(), certificate: next.summary },
      'xDS mutual TLS: certificate and client CA reloaded; new connections use them, connected gateways keep their streams');
  }

  private recordExpiry(): void {
    this.metrics?.xdsCertificateNotAfter.set(Math.floor(this.loaded.expiresAt.getTime() / 1000));
    if (this.loaded.expiresAt.getTime() <= Date.now()) {
      this.logger.warn({ certificate: this.loaded.summary, file: this.files.cert }, 'xDS mutual TLS: the server certificate has expired; gateways will refuse new connections until it is renewed');
    }
  }

  private fileNames(): Record<string, string> {
    return { cert: this.files.cert, key: this.files.key, clientCa: this.files.clientCa };
  }
}

/** Reads and checks the three files; throws an error naming the flag and the file (never their content). */
export function loadXdsTls(files: XdsTlsFiles): LoadedTls {
  return parseXdsTls(files, readXdsTlsFiles(files));
}

type XdsTlsContents = Record<keyof XdsTlsFiles, Buffer>;

function readXdsTlsFiles(files: XdsTlsFiles): XdsTlsContents {
  return { cert: readPem(files, 'cert'), key: readPem(files, 'key'), clientCa: readPem(files, 'clientCa') };
}

function parseXdsTls(files: XdsTlsFiles, { cert, key, clientCa: ca }: XdsTlsContents): LoadedTls {
  const chain = certificates(files, 'cert', cert);
  certificates(files, 'clientCa', ca);
  const leaf = chain[0]!;
  const subject = leaf.subject.replace(/\n/g, ', ');
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`${FLAGS.key} ${files.key}: not a PEM private key (${(error as Error).message}); give the key of ${FLAGS.cert}, e.g. tls.key of a kubernetes.io/tls Secret`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new Error(`${FLAGS.key} ${files.key} is not the key of the certificate in ${FLAGS.cert} ${files.cert} (${subject}); give the pair that belongs together`);
  }
  return {
    options: { cert, key, ca },
    summary: { subject, notAfter: leaf.validTo, fingerprint256: leaf.fingerprint256 },
    expiresAt: new Date(leaf.validTo),
    digest: digestOf({ cert, key, clientCa: ca }),
  };
}

function readPem(files: XdsTlsFiles, which: keyof XdsTlsFiles): Buffer {
  try {
    return readFileSync(files[which]);
  } catch (error) {
    throw new Error(`${FLAGS[which]} ${files[which]}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path and that Ferry's user may read it`);
  }
}

function certificates(files: XdsTlsFiles, which: 'cert' | 'clientCa', pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${FLAGS[which]} ${files[which]}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`${FLAGS[which]} ${files[which]}: certificate ${index + 1} does not parse (${(error as Error).message})`);
    }
  });
}

function digestOf(contents: XdsTlsContents): string {
  return createHash('sha256').update(contents.cert).update(contents.key).update(contents.clientCa).digest('hex');
}
