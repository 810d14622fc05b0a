// The evidence pack's signature: Ed25519, with a key kept outside the database (review.signingKey,
// by default <dataDir>/review-signing-key.pem, created 0600 on first use). Whoever owns the
// database but not this file cannot produce a pack that verifies under this key.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import { UsageError } from '../util/usage-error.js';

export interface PackSignature {
  algorithm: 'ed25519';
  /** Over the UTF-8 bytes of the pack's digest (hex). */
  signed: 'digest';
  public_key: string;
  /** sha256 of the public key (DER): compare it with the one you keep, not with the pack's. */
  key_fingerprint: string;
  value: string;
}

export const signingKeyPath = (config: Pick<Config, 'dataDir' | 'review'>) => config.review.signingKey ?? join(config.dataDir, 'review-signing-key.pem');

/** The signing key, created on first use (the file is the key: anyone who can read it can sign). */
export function loadSigningKey(path: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(`review.signingKey: cannot read an Ed25519 private key from ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(path), { recursive: true });
  // 'wx': never overwrite a key another process created meanwhile.
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  // The public half beside it, to give to whoever checks packs (`review verify --public-key`).
  writeFileSync(`${path}.pub`, createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  if ((statSync(path).mode & 0o077) !== 0) throw new UsageError(`review.signingKey: ${path} is readable by others; it must be 0600`);
  return privateKey;
}

export const fingerprint = (publicKey: KeyObject) => createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');

export function signDigest(digest: string, privateKey: KeyObject): PackSignature {
  const publicKey = createPublicKey(privateKey);
  return {
    algorithm: 'ed25519', signed: 'digest',
    public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    key_fingerprint: fingerprint(publicKey),
    value: sign(null, Buffer.from(digest, 'utf8'), privateKey).toString('base64'),
  };
}

/** Whether `signature` is a valid signature of `digest` by the key it names. */
export function signatureValid(digest: string, s: PackSignature): boolean {
  try {
    return verify(null, Buffer.from(digest, 'utf8'), createPublicKey(s.public_key), Buffer.from(s.value, 'base64'));
  } catch {
    return false;
  }
}
