/** Client and worker connection options from config (TLS paths) and the environment (API key). */
import { readFileSync } from 'node:fs';
import type { Config, WorkerSecrets } from './config';

export interface ConnectionOptions {
  address: string;
  tls?: { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } } | boolean;
  apiKey?: string;
}

/** Options shared by `Connection.connect` (client) and `NativeConnection.connect` (worker). */
export function connectionOptions(config: Config, secrets: WorkerSecrets): ConnectionOptions {
  const { address, tls } = config.temporal;
  const opts: ConnectionOptions = { address };
  if (tls) {
    opts.tls = {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: tls.caPath ? readFileSync(tls.caPath) : undefined,
      clientCertPair: tls.certPath && tls.keyPath ? { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } : undefined,
    };
  }
  if (secrets.temporalApiKey) {
    opts.apiKey = secrets.temporalApiKey;
    opts.tls ??= true; // Temporal Cloud API keys require TLS
  }
  return opts;
}
