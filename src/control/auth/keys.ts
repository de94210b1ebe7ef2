import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/** The node's signing key and its public JWK. */
export interface SigningKeys {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

const FILE = 'ed25519.jwk.json';

/**
 * Loads the Ed25519 signing key from `<dataDir>/keys/`, making one on first start.
 * The private key file is written with mode 0600 and never logged or served.
 */
export async function loadOrCreateKeys(dataDir: string): Promise<SigningKeys> {
  const dir = join(dataDir, 'keys');
  const file = join(dir, FILE);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = randomUUID();
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig' }), { mode: 0o600 });
    renameSync(tmp, file);
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as JWK & { kid: string };
  const privateKey = (await importJWK(stored, 'EdDSA')) as CryptoKey;
  const { d: _d, ...pub } = stored;
  return { kid: stored.kid, privateKey, publicJwk: { ...pub, alg: 'EdDSA', use: 'sig' } };
}
