// The age v1 file format (https://age-encryption.org/v1, c2sp.org/age) for the backup repository.
//
// Everything on the bulk path — the X25519 recipient stanza, the header MAC and the STREAM payload
// (64 KiB ChaCha20-Poly1305 chunks) — is implemented here, streaming with constant memory, on
// Node's native crypto where it has the primitives (plain Node: ~0.8–1.2 GB/s) and on the @noble
// code age-encryption itself uses where it does not (Electron's BoringSSL: ~110 MB/s); see
// "Crypto backends". The passphrase (scrypt) recipient that protects the small repository key
// file uses Node's native scrypt; the `age-encryption` library is only its fallback.
//
// Files written here are ordinary age files: `age -d -i identity.txt` reads them, and files written
// by `age -r age1…` / `age -p` are read here.
//
// Durability is the caller's job: write to a temp name, fsync, rename (see store/atomic.ts). The
// streaming decryptors hand out plaintext chunk by chunk as each one authenticates, but a file is
// only known to be complete and untampered when the call RESOLVES; if it rejects, everything
// already written is garbage and must be discarded (write to a temp file, rename only on success).
// `decryptFile(…, destPath)` removes its own partial output when it fails.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { scrypt as nodeScrypt } from 'node:crypto';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Decrypter, Encrypter } from 'age-encryption';

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Why an age operation failed.
 * - `not-age`: the input is not an age v1 file (other magic, other version, ASCII armor).
 * - `truncated`: the data ends before a valid final chunk (inside the header, the nonce, at a chunk
 *   boundary, or inside a chunk). A last chunk that is cut short and a last, short chunk that was
 *   altered cannot be told apart cryptographically; both are reported as `truncated`.
 * - `tampered`: authentication failed (header MAC, a chunk tag), the header is malformed after a valid
 *   version line, or data follows the final chunk.
 * - `no-matching-identity`: no stanza could be unwrapped with the given identities (also: a corrupted
 *   X25519 stanza, which is indistinguishable from one addressed to someone else; or a
 *   passphrase-protected file given to the identity API and vice versa).
 * - `wrong-passphrase`: the scrypt stanza did not open with the passphrase.
 * - `invalid-key`: a recipient, identity or passphrase argument is malformed (a caller bug / bad config).
 */
export type AgeErrorCode = 'not-age' | 'truncated' | 'tampered' | 'no-matching-identity' | 'wrong-passphrase' | 'invalid-key';

export class AgeError extends Error {
  readonly code: AgeErrorCode;
  constructor(code: AgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(`age: ${code}: ${message}`, options);
    this.name = 'AgeError';
    this.code = code;
  }
}

export function isAgeError(err: unknown, code?: AgeErrorCode): err is AgeError {
  return err instanceof AgeError && (code === undefined || err.code === code);
}

// ---------------------------------------------------------------------------------------------
// Constants

const VERSION_LINE = 'age-encryption.org/v1';
const VERSION_PREFIX = 'age-encryption.org/';
const VERSION_LINE_BYTES = Buffer.from(VERSION_LINE + '\n', 'latin1');
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const CT_CHUNK = CHUNK + TAG;
const FILE_KEY_LEN = 16;
const NONCE_LEN = 16;
/** Bounds on what a file we did not write can make us do before its header authenticates. */
const MAX_HEADER_BYTES = 1024 * 1024;
const MAX_STANZAS = 128;
/** Reads and writes are batched to about this size. */
const IO_BLOCK = 1024 * 1024;
/** scrypt work factor (log2 N) for passphrase-protected keys: age's default; ~1.25 s per unlock here. */
export const SCRYPT_LOG_N = 18;
/** The largest work factor accepted when decrypting (as in age-encryption); bounds a hostile file's cost. */
const MAX_SCRYPT_LOG_N = 20;

// ---------------------------------------------------------------------------------------------
// Bech32 (BIP 173, without the 90-character limit), for age1… and AGE-SECRET-KEY-1…

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function bech32Polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >>> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | data[i]!;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    return null;
  }
  return out;
}

function bech32Encode(hrp: string, data: Uint8Array): string {
  const lowerHrp = hrp.toLowerCase();
  const words = convertBits(data, 8, 5, true)!;
  const values = [...hrpExpand(lowerHrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = bech32Polymod(values) ^ 1;
  const checksum: number[] = [];
  for (let i = 0; i < 6; i++) checksum.push((mod >>> (5 * (5 - i))) & 31);
  return lowerHrp + '1' + [...words, ...checksum].map((w) => BECH32_CHARSET[w]).join('');
}

/** Decodes a Bech32 string; returns the lowercase HRP and the bytes, or null if invalid. */
function bech32Decode(s: string): { hrp: string; bytes: Buffer } | null {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return null;
  const lower = s.toLowerCase();
  const pos = lower.lastIndexOf('1');
  if (pos < 1 || pos + 7 > lower.length) return null;
  const hrp = lower.slice(0, pos);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) return null;
  }
  const words: number[] = [];
  for (const ch of lower.slice(pos + 1)) {
    const v = BECH32_CHARSET.indexOf(ch);
    if (v < 0) return null;
    words.push(v);
  }
  if (bech32Polymod([...hrpExpand(hrp), ...words]) !== 1) return null;
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  if (bytes === null) return null;
  return { hrp, bytes: Buffer.from(bytes) };
}

// ---------------------------------------------------------------------------------------------
// Crypto backends
//
// Node's OpenSSL build has native ChaCha20-Poly1305 and X25519. Electron's Node is built on
// BoringSSL, which exposes neither `createCipheriv('chacha20-poly1305')` nor (in some versions)
// X25519 KeyObjects. Each primitive is therefore probed once with a known-answer test, and where
// the native one is missing or wrong the @noble implementation that age-encryption itself runs
// on is used instead (same output, ~10x slower for the payload). HMAC-SHA-256 (and HKDF built on
// it), SHA-256 and randomBytes are native everywhere.

const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

interface X25519Impl {
  publicKey(scalar: Uint8Array): Buffer;
  /** The shared secret, or null for a low-order peer point (all-zero result). */
  shared(scalar: Uint8Array, peer: Uint8Array): Buffer | null;
  /** A fresh ephemeral key pair for one file: its public share and the shared secret with `peer` (null: low-order peer). */
  ephemeral(peer: Uint8Array): { share: Buffer; shared: Buffer | null };
}

interface AeadImpl {
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer[];
  /** The plaintext, or null if authentication fails. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | null;
}

// OpenSSL 3 parses a DER key in ~0.3 ms, which was most of the per-file cost of a backup of many
// small files. So: the few long-lived keys (an identity, a repository's recipient) are parsed
// once and kept; an ephemeral key pair is generated natively (no parsing) and exported as JWK;
// a peer's ephemeral share is imported from JWK (~7 µs against ~80 µs from DER).
const b64url = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const privateKeys = new Map<string, crypto.KeyObject>();
const recipientKeys = new Map<string, crypto.KeyObject>();

function boundedGet<V>(cache: Map<string, V>, key: string, make: () => V): V {
  let v = cache.get(key);
  if (v === undefined) {
    v = make();
    if (cache.size >= 32) cache.clear();
    cache.set(key, v);
  }
  return v;
}

function nodePrivateKey(scalar: Uint8Array): crypto.KeyObject {
  return boundedGet(privateKeys, crypto.createHash('sha256').update(scalar).digest('hex'), () =>
    crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, scalar]), format: 'der', type: 'pkcs8' }),
  );
}

const nodePublicKey = (raw: Uint8Array): crypto.KeyObject => crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(raw) }, format: 'jwk' });

function nodeDh(privateKey: crypto.KeyObject, publicKey: crypto.KeyObject): Buffer | null {
  let out: Buffer;
  try {
    out = crypto.diffieHellman({ privateKey, publicKey });
  } catch {
    return null; // OpenSSL refuses to return an all-zero shared secret
  }
  return out.every((b) => b === 0) ? null : out;
}

const nodeX25519: X25519Impl = {
  publicKey(scalar) {
    const spki = crypto.createPublicKey(nodePrivateKey(scalar)).export({ format: 'der', type: 'spki' });
    return spki.subarray(spki.length - 32);
  },
  shared(scalar, peer) {
    let publicKey: crypto.KeyObject;
    try {
      publicKey = nodePublicKey(peer);
    } catch {
      return null;
    }
    return nodeDh(nodePrivateKey(scalar), publicKey);
  },
  ephemeral(peer) {
    // The recipient is the same for every blob of a repository: parse its key once.
    const publicKey = boundedGet(recipientKeys, Buffer.from(peer).toString('hex'), () => nodePublicKey(peer));
    const pair = crypto.generateKeyPairSync('x25519');
    const share = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    return { share, shared: nodeDh(pair.privateKey, publicKey) };
  },
};

const jsX25519: X25519Impl = {
  publicKey: (scalar) => toBuffer(nobleX25519.getPublicKey(scalar)),
  shared(scalar, peer) {
    let out: Uint8Array;
    try {
      out = nobleX25519.getSharedSecret(scalar, peer);
    } catch {
      return null; // noble throws on a low-order point
    }
    return out.every((b) => b === 0) ? null : toBuffer(out);
  },
  ephemeral(peer) {
    const eph = crypto.randomBytes(32);
    try {
      return { share: jsX25519.publicKey(eph), shared: jsX25519.shared(eph, peer) };
    } finally {
      eph.fill(0);
    }
  },
};

const nodeAead: AeadImpl = {
  seal(key, nonce, plaintext) {
    const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    const body = c.update(plaintext);
    c.final();
    return [body, c.getAuthTag()];
  },
  open(key, nonce, sealed) {
    if (sealed.length < TAG) return null;
    const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const body = d.update(sealed.subarray(0, sealed.length - TAG));
    try {
      d.final();
    } catch {
      return null;
    }
    return body;
  },
};

const jsAead: AeadImpl = {
  seal: (key, nonce, plaintext) => [toBuffer(chacha20poly1305(key, nonce).encrypt(plaintext))],
  open(key, nonce, sealed) {
    if (sealed.length < TAG) return null;
    try {
      return toBuffer(chacha20poly1305(key, nonce).decrypt(sealed));
    } catch {
      return null;
    }
  },
};

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** RFC 7748 §6.1 and a ChaCha20-Poly1305 vector computed by the JS implementation. */
function nativeWorks(): { x25519: boolean; aead: boolean } {
  let x = false;
  let a = false;
  try {
    const alice = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    const bobPub = Buffer.from('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f', 'hex');
    x =
      nodeX25519.publicKey(alice).toString('hex') === '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a' &&
      nodeX25519.shared(alice, bobPub)?.toString('hex') === '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    // An ephemeral share and secret must agree with the other side's computation (noble's).
    const e = nodeX25519.ephemeral(nodeX25519.publicKey(alice));
    x = x && e.share.length === 32 && e.shared !== null && e.shared.equals(jsX25519.shared(alice, e.share) ?? Buffer.alloc(0));
  } catch {
    x = false;
  }
  try {
    const key = Buffer.alloc(32, 7);
    const nonce = Buffer.alloc(12, 1);
    const msg = Buffer.from('lifeline age self-test');
    const native = Buffer.concat(nodeAead.seal(key, nonce, msg));
    a = native.equals(Buffer.concat(jsAead.seal(key, nonce, msg))) && nodeAead.open(key, nonce, native)?.equals(msg) === true;
  } catch {
    a = false;
  }
  return { x25519: x, aead: a };
}

const NATIVE = nativeWorks();
let X25519: X25519Impl = NATIVE.x25519 ? nodeX25519 : jsX25519;
let AEAD: AeadImpl = NATIVE.aead ? nodeAead : jsAead;

/** Which implementation is in use: 'node' (native, fast) or 'js' (@noble, e.g. under Electron's BoringSSL). */
export function cryptoBackend(): { x25519: 'node' | 'js'; aead: 'node' | 'js' } {
  return { x25519: X25519 === nodeX25519 ? 'node' : 'js', aead: AEAD === nodeAead ? 'node' : 'js' };
}

/** Forces the pure-JS implementations (true) or goes back to the probed choice (false). For tests. */
export function forceJsCrypto(on: boolean): void {
  X25519 = on || !NATIVE.x25519 ? jsX25519 : nodeX25519;
  AEAD = on || !NATIVE.aead ? jsAead : nodeAead;
}

// ---------------------------------------------------------------------------------------------
// Keys

interface ParsedIdentity {
  scalar: Buffer;
  publicKey: Buffer;
}

const parsedIdentities = new Map<string, Readonly<ParsedIdentity>>();

/** Parsed once per identity (a restore decrypts thousands of blobs with the same one). */
function parseIdentity(identity: string): Readonly<ParsedIdentity> {
  const s = identity.trim();
  return boundedGet(parsedIdentities, crypto.createHash('sha256').update(s).digest('hex'), () => {
    const dec = s.startsWith('AGE-SECRET-KEY-1') ? bech32Decode(s) : null;
    if (dec === null || dec.hrp !== 'age-secret-key-' || dec.bytes.length !== 32) {
      throw new AgeError('invalid-key', 'not an X25519 age identity (expected AGE-SECRET-KEY-1…)');
    }
    return Object.freeze({ scalar: dec.bytes, publicKey: X25519.publicKey(dec.bytes) });
  });
}

function parseRecipient(recipient: string): Buffer {
  const s = recipient.trim();
  const dec = s.startsWith('age1') ? bech32Decode(s) : null;
  if (dec === null || dec.hrp !== 'age' || dec.bytes.length !== 32) {
    throw new AgeError('invalid-key', `not an X25519 age recipient (expected age1…): ${JSON.stringify(recipient.slice(0, 80))}`);
  }
  return dec.bytes;
}

/** A fresh X25519 key pair: the identity (secret) and its recipient (public). */
export function generateIdentity(): { identity: string; recipient: string } {
  const scalar = crypto.randomBytes(32);
  const identity = bech32Encode('AGE-SECRET-KEY-', scalar).toUpperCase();
  scalar.fill(0);
  return { identity, recipient: identityToRecipient(identity) };
}

/** The `age1…` recipient of an `AGE-SECRET-KEY-1…` identity. */
export function identityToRecipient(identity: string): string {
  return bech32Encode('age', parseIdentity(identity).publicKey);
}

/** True when `s` is a well-formed X25519 recipient (`age1…`). */
export function isRecipient(s: string): boolean {
  try {
    parseRecipient(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads identities from the text of an identity file (as written by age-keygen: `#` comments,
 * blank lines, one `AGE-SECRET-KEY-1…` per line).
 */
export function parseIdentityFile(text: string): string[] {
  const ids = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const id of ids) parseIdentity(id);
  if (ids.length === 0) throw new AgeError('invalid-key', 'the identity file holds no identity');
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Small primitives

/** HKDF-SHA-256 (RFC 5869) with 32 bytes of output: one HMAC to extract, one to expand. */
function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  // An empty salt is HMAC's all-zero key, as RFC 5869 prescribes for a missing salt.
  const prk = crypto.createHmac('sha256', salt).update(ikm).digest();
  return crypto.createHmac('sha256', prk).update(info, 'latin1').update(Buffer.of(1)).digest();
}

const ZERO_NONCE = Buffer.alloc(12);

function b64encode(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64').replace(/=+$/, '');
}

const B64_CHARS = /^[A-Za-z0-9+/]*$/;

/** Strict, canonical, unpadded base64 (the spec requires rejecting anything else). */
function b64decode(s: string): Buffer | null {
  if (!B64_CHARS.test(s) || s.length % 4 === 1) return null;
  const b = Buffer.from(s, 'base64');
  return b64encode(b) === s ? b : null;
}

function headerMacKey(fileKey: Uint8Array): Buffer {
  return hkdf(fileKey, Buffer.alloc(0), 'header');
}

// ---------------------------------------------------------------------------------------------
// Header

interface Stanza {
  args: string[];
  body: Buffer;
}

interface Header {
  stanzas: Stanza[];
  mac: Buffer;
  /** The header bytes up to and including `---` (what the MAC covers). */
  macInput: Buffer;
  /** The whole header including the MAC line's newline. */
  bytes: Buffer;
}

function encodeHeaderNoMac(stanzas: Stanza[]): Buffer {
  let s = VERSION_LINE + '\n';
  for (const st of stanzas) {
    s += '-> ' + st.args.join(' ') + '\n';
    const b64 = b64encode(st.body);
    for (let i = 0; i <= b64.length; i += 64) s += b64.slice(i, i + 64) + '\n';
    // The loop above emits a final line shorter than 64 columns (possibly empty), as required.
  }
  s += '---';
  return Buffer.from(s, 'latin1');
}

function isVchar(arg: string): boolean {
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return arg.length > 0;
}

const malformed = (why: string): AgeError => new AgeError('tampered', `malformed header: ${why}`);

/**
 * Parses a header at the start of `buf`. Returns null when `buf` ends before the header does
 * (more data needed). Throws `not-age` as soon as the first bytes rule out an age v1 file.
 */
function tryParseHeader(buf: Buffer): { header: Header; length: number } | null {
  // Magic: decided from the first bytes, so a non-age file is refused without reading further.
  const n = Math.min(buf.length, VERSION_LINE_BYTES.length);
  if (!buf.subarray(0, n).equals(VERSION_LINE_BYTES.subarray(0, n))) {
    const probe = buf.subarray(0, 64).toString('latin1');
    if (probe.startsWith('-----BEGIN')) {
      throw new AgeError('not-age', 'ASCII-armored age files are not supported (remove the armor with `age -d` first)');
    }
    if (probe.startsWith(VERSION_PREFIX) && buf.length > VERSION_PREFIX.length) {
      throw new AgeError('not-age', `unsupported age format version ${JSON.stringify(probe.split('\n')[0])}`);
    }
    throw new AgeError('not-age', 'the data does not start with the age v1 header');
  }
  if (buf.length < VERSION_LINE_BYTES.length) return null;

  let pos = VERSION_LINE_BYTES.length;
  const nextLine = (): string | null => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) {
      if (buf.length - pos > 4096) throw malformed('header line too long');
      return null;
    }
    const line = buf.subarray(pos, nl).toString('latin1');
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) throw malformed('non-printable byte in header');
    }
    pos = nl + 1;
    return line;
  };

  const stanzas: Stanza[] = [];
  for (;;) {
    const lineStart = pos;
    const line = nextLine();
    if (line === null) return null;
    if (line.startsWith('-> ')) {
      if (stanzas.length >= MAX_STANZAS) throw malformed(`more than ${MAX_STANZAS} recipient stanzas`);
      const args = line.slice(3).split(' ');
      if (!args.every(isVchar)) throw malformed('empty or invalid stanza argument');
      const parts: Buffer[] = [];
      for (;;) {
        const bl = nextLine();
        if (bl === null) return null;
        if (bl.length > 64) throw malformed('stanza body line longer than 64 columns');
        const dec = b64decode(bl);
        if (dec === null) throw malformed('stanza body is not canonical base64');
        parts.push(dec);
        if (bl.length < 64) break;
      }
      stanzas.push({ args, body: Buffer.concat(parts) });
      continue;
    }
    if (line.startsWith('---')) {
      if (stanzas.length === 0) throw malformed('no recipient stanza');
      if (!line.startsWith('--- ')) throw malformed('bad MAC line');
      const mac = b64decode(line.slice(4));
      if (mac === null || mac.length !== 32) throw malformed('bad MAC encoding');
      const macInput = buf.subarray(0, lineStart + 3);
      return { header: { stanzas, mac, macInput: Buffer.from(macInput), bytes: Buffer.from(buf.subarray(0, pos)) }, length: pos };
    }
    throw malformed(`unexpected line ${JSON.stringify(line.slice(0, 40))}`);
  }
}

function verifyHeaderMac(header: Header, fileKey: Uint8Array): void {
  const mac = crypto.createHmac('sha256', headerMacKey(fileKey)).update(header.macInput).digest();
  if (!crypto.timingSafeEqual(mac, header.mac)) {
    throw new AgeError('tampered', 'header MAC mismatch: the header was altered');
  }
}

function unwrapX25519(header: Header, identities: readonly ParsedIdentity[]): Buffer {
  let sawScrypt = false;
  for (const st of header.stanzas) {
    if (st.args[0] === 'scrypt') sawScrypt = true;
    if (st.args[0] !== 'X25519') continue;
    if (st.args.length !== 2) throw malformed('X25519 stanza must have exactly one argument');
    const share = b64decode(st.args[1]!);
    if (share === null || share.length !== 32) throw malformed('X25519 ephemeral share is not 32 bytes');
    if (st.body.length !== 32) throw malformed('X25519 stanza body is not 32 bytes');
    for (const id of identities) {
      const shared = X25519.shared(id.scalar, share);
      if (shared === null) throw new AgeError('tampered', 'X25519 stanza has a low-order ephemeral share');
      const wrapKey = hkdf(shared, Buffer.concat([share, id.publicKey]), X25519_LABEL);
      const fileKey = AEAD.open(wrapKey, ZERO_NONCE, st.body);
      if (fileKey !== null) return fileKey;
    }
  }
  if (sawScrypt) {
    throw new AgeError('no-matching-identity', 'the file is passphrase-protected; use decryptWithPassphrase');
  }
  throw new AgeError('no-matching-identity', 'none of the given identities can open this file');
}

// ---------------------------------------------------------------------------------------------
// STREAM payload

function streamNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6); // bytes 0..4 stay zero: 48 bits of counter (16 EiB of payload)
  n[11] = last ? 1 : 0;
  return n;
}

/** Push-based encryptor for one file: header and nonce first, then chunks as plaintext arrives. */
class AgeEncryptor {
  private readonly payloadKey: Buffer;
  readonly preamble: Buffer;
  private readonly cur = Buffer.allocUnsafe(CHUNK);
  private fill = 0;
  private counter = 0;
  private finished = false;
  plaintextBytes = 0;

  /** `recipients`: X25519 recipients (age1…), or a function that wraps the file key into the stanzas itself (scrypt). */
  constructor(recipients: readonly string[] | ((fileKey: Buffer) => Stanza[])) {
    if (typeof recipients !== 'function' && recipients.length === 0) throw new AgeError('invalid-key', 'at least one recipient is required');
    const pubs = typeof recipients === 'function' ? [] : recipients.map(parseRecipient);
    const fileKey = crypto.randomBytes(FILE_KEY_LEN);
    const stanzas: Stanza[] = typeof recipients === 'function' ? recipients(fileKey) : pubs.map((pub) => {
      const { share, shared } = X25519.ephemeral(pub);
      if (shared === null) throw new AgeError('invalid-key', 'the recipient is a low-order point');
      const wrapKey = hkdf(shared, Buffer.concat([share, pub]), X25519_LABEL);
      return { args: ['X25519', b64encode(share)], body: Buffer.concat(AEAD.seal(wrapKey, ZERO_NONCE, fileKey)) };
    });
    const noMac = encodeHeaderNoMac(stanzas);
    const mac = crypto.createHmac('sha256', headerMacKey(fileKey)).update(noMac).digest();
    const nonce = crypto.randomBytes(NONCE_LEN);
    this.payloadKey = hkdf(fileKey, nonce, 'payload');
    fileKey.fill(0);
    this.preamble = Buffer.concat([noMac, Buffer.from(' ' + b64encode(mac) + '\n', 'latin1'), nonce]);
  }

  private seal(plain: Uint8Array, last: boolean, out: Buffer[]): void {
    for (const b of AEAD.seal(this.payloadKey, streamNonce(this.counter++, last), plain)) out.push(b);
  }

  /** Hands the payload key to a caller that seals the payload itself; this encryptor is spent. */
  takePayloadKey(): Buffer {
    this.finished = true;
    const key = Buffer.from(this.payloadKey);
    this.payloadKey.fill(0);
    return key;
  }

  /** Encrypts what completes a chunk; a full chunk is only sealed once more data shows it is not the last. */
  push(data: Uint8Array, out: Buffer[] = []): Buffer[] {
    if (this.finished) throw new Error('age: push after finish');
    this.plaintextBytes += data.length;
    let off = 0;
    while (off < data.length) {
      if (this.fill === CHUNK) {
        this.seal(this.cur, false, out);
        this.fill = 0;
      }
      if (this.fill === 0 && data.length - off > CHUNK) {
        // Aligned, and more data follows: seal straight from the input, no copy.
        this.seal(data.subarray(off, off + CHUNK), false, out);
        off += CHUNK;
        continue;
      }
      const n = Math.min(CHUNK - this.fill, data.length - off);
      data instanceof Buffer ? data.copy(this.cur, this.fill, off, off + n) : this.cur.set(data.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
    }
    return out;
  }

  finish(out: Buffer[] = []): Buffer[] {
    if (this.finished) throw new Error('age: finish called twice');
    this.finished = true;
    this.seal(this.cur.subarray(0, this.fill), true, out);
    this.payloadKey.fill(0);
    return out;
  }
}

/** STREAM decryption with a known payload key; plaintext is released one authenticated chunk at a time. */
class PayloadDecryptor {
  private readonly cur = Buffer.allocUnsafe(CT_CHUNK);
  private fill = 0;
  private counter = 0;
  private done = false;

  constructor(private readonly key: Buffer) {}

  private openChunk(sealed: Uint8Array, out: Buffer[]): void {
    const plain = AEAD.open(this.key, streamNonce(this.counter, false), sealed);
    if (plain === null) {
      if (AEAD.open(this.key, streamNonce(this.counter, true), sealed) !== null) {
        throw new AgeError('tampered', `data follows the final chunk (chunk ${this.counter})`);
      }
      throw new AgeError('tampered', `chunk ${this.counter} failed authentication (plaintext offset ${this.counter * CHUNK})`);
    }
    this.counter++;
    out.push(plain);
  }

  /** Feeds payload bytes (after the nonce); appends the plaintext of every chunk that authenticated. */
  push(data: Uint8Array, out: Buffer[] = []): Buffer[] {
    if (this.done) throw new Error('age: push after end');
    let off = 0;
    while (off < data.length) {
      if (this.fill === CT_CHUNK) {
        // More data follows, so this full chunk is not the last one.
        this.openChunk(this.cur, out);
        this.fill = 0;
      }
      if (this.fill === 0 && data.length - off > CT_CHUNK) {
        this.openChunk(data.subarray(off, off + CT_CHUNK), out);
        off += CT_CHUNK;
        continue;
      }
      const n = Math.min(CT_CHUNK - this.fill, data.length - off);
      this.cur.set(data.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
    }
    return out;
  }

  /** End of input: authenticates the final chunk or throws. */
  end(out: Buffer[] = []): Buffer[] {
    if (this.done) throw new Error('age: end called twice');
    this.done = true;
    const sealed = this.cur.subarray(0, this.fill);
    if (sealed.length < TAG) {
      throw new AgeError('truncated', this.counter === 0 && sealed.length === 0 ? 'the file has no payload' : 'the file ends inside an encrypted chunk');
    }
    const plain = AEAD.open(this.key, streamNonce(this.counter, true), sealed);
    if (plain === null) {
      if (AEAD.open(this.key, streamNonce(this.counter, false), sealed) !== null) {
        throw new AgeError('truncated', `the file ends after chunk ${this.counter} without a final chunk`);
      }
      if (sealed.length === CT_CHUNK) throw new AgeError('tampered', `chunk ${this.counter} failed authentication`);
      throw new AgeError(
        'truncated',
        `the last ${sealed.length} bytes do not authenticate: the file ends inside chunk ${this.counter} (or that last chunk is damaged)`,
      );
    }
    if (plain.length === 0 && this.counter > 0) {
      throw new AgeError('tampered', 'the final chunk is empty, which age v1 forbids for a non-empty payload');
    }
    this.counter++;
    this.key.fill(0);
    out.push(plain);
    return out;
  }
}

type KeyUnwrapper = (header: Header) => Buffer | Promise<Buffer>;

/** Push-based decryptor for a whole file: header (unwrap + MAC), nonce, then the STREAM payload. */
class AgeDecryptor {
  private head: Buffer = Buffer.alloc(0);
  private header: Header | null = null;
  private fileKey: Buffer | null = null;
  private payload: PayloadDecryptor | null = null;

  constructor(private readonly unwrap: KeyUnwrapper) {}

  async push(data: Uint8Array, out: Buffer[] = []): Promise<Buffer[]> {
    if (this.payload !== null) return this.payload.push(data, out);
    this.head = this.head.length === 0 ? Buffer.from(data) : Buffer.concat([this.head, data]);
    if (this.header === null) {
      const parsed = tryParseHeader(this.head);
      if (parsed === null) {
        if (this.head.length > MAX_HEADER_BYTES) throw malformed(`header larger than ${MAX_HEADER_BYTES} bytes`);
        return out;
      }
      // Unwrap and authenticate the header before anything else, even if the rest is missing.
      const fileKey = await this.unwrap(parsed.header);
      verifyHeaderMac(parsed.header, fileKey);
      this.header = parsed.header;
      this.fileKey = fileKey;
      this.head = this.head.subarray(parsed.length);
    }
    if (this.head.length < NONCE_LEN) return out;
    this.payload = new PayloadDecryptor(hkdf(this.fileKey!, this.head.subarray(0, NONCE_LEN), 'payload'));
    this.fileKey!.fill(0);
    const rest = this.head.subarray(NONCE_LEN);
    this.head = Buffer.alloc(0);
    return this.payload.push(rest, out);
  }

  end(out: Buffer[] = []): Buffer[] {
    if (this.payload !== null) return this.payload.end(out);
    if (this.header !== null) throw new AgeError('truncated', 'the file ends before the payload nonce');
    if (this.head.length === 0) throw new AgeError('truncated', 'the file is empty');
    throw new AgeError('truncated', 'the file ends inside the age header');
  }
}

/** Whole-buffer decryption once the file key is known (verifies the header MAC first). */
function decryptWithFileKey(header: Header, fileKey: Buffer, payload: Buffer): Buffer {
  return Buffer.concat(decryptPartsWithFileKey(header, fileKey, payload));
}

function decryptPartsWithFileKey(header: Header, fileKey: Buffer, payload: Buffer): Buffer[] {
  verifyHeaderMac(header, fileKey);
  if (payload.length < NONCE_LEN) throw new AgeError('truncated', 'the file ends before the payload nonce');
  const dec = new PayloadDecryptor(hkdf(fileKey, payload.subarray(0, NONCE_LEN), 'payload'));
  fileKey.fill(0);
  const out = dec.push(payload.subarray(NONCE_LEN));
  dec.end(out);
  return out;
}

function parseWholeHeader(buf: Buffer): { header: Header; length: number } {
  const parsed = tryParseHeader(buf);
  if (parsed !== null) return parsed;
  throw new AgeError('truncated', buf.length === 0 ? 'the file is empty' : 'the file ends inside the age header');
}

// ---------------------------------------------------------------------------------------------
// Sources and sinks

/**
 * Where bytes come from: a file path, a buffer, or any async iterable of byte chunks (a Node
 * `Readable` qualifies).
 */
export type ByteSource = string | Uint8Array | AsyncIterable<Uint8Array>;

/** Where plaintext / ciphertext goes: a path (created or truncated, mode 0600), an open FileHandle or fd, or a callback. */
export type ByteSink = string | FileHandle | number | ((chunk: Buffer) => void | Promise<void>);

async function* readFileBlocks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  // Two buffers: the next read runs while the consumer works on the current block. A yielded
  // block is only valid until the consumer asks for the next one (internal consumers copy).
  const bufs = [Buffer.allocUnsafe(IO_BLOCK), Buffer.allocUnsafe(IO_BLOCK)];
  let which = 0;
  let pending = fh.read(bufs[0]!, 0, IO_BLOCK, null);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) return;
      const block = bufs[which]!.subarray(0, bytesRead);
      which ^= 1;
      pending = fh.read(bufs[which]!, 0, IO_BLOCK, null);
      yield block;
    }
  } finally {
    await pending.catch(() => undefined); // a read still in flight when the consumer stops early
    await fh.close();
  }
}

async function* sourceBlocks(src: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof src === 'string') {
    yield* readFileBlocks(src);
  } else if (src instanceof Uint8Array) {
    for (let off = 0; off < src.length; off += IO_BLOCK) yield src.subarray(off, off + IO_BLOCK);
  } else {
    for await (const chunk of src) {
      if (typeof chunk === 'string') throw new TypeError('age: source stream must yield bytes, not strings');
      for (let off = 0; off < chunk.length; off += IO_BLOCK) yield chunk.length <= IO_BLOCK ? chunk : chunk.subarray(off, off + IO_BLOCK);
    }
  }
}

async function writeAllFd(fd: number | FileHandle, bufs: Buffer[]): Promise<void> {
  let list = bufs.filter((b) => b.length > 0);
  while (list.length > 0) {
    const { bytesWritten } =
      typeof fd === 'number'
        ? await new Promise<{ bytesWritten: number }>((resolve, reject) =>
            fs.writev(fd, list, (err, n) => (err ? reject(err) : resolve({ bytesWritten: n }))),
          )
        : await fd.writev(list);
    // Drop what was written (short writes are legal).
    let n = bytesWritten;
    const next: Buffer[] = [];
    for (const b of list) {
      if (n >= b.length) {
        n -= b.length;
        continue;
      }
      next.push(n > 0 ? b.subarray(n) : b);
      n = 0;
    }
    if (next.length > 0 && bytesWritten === 0) throw new Error('age: write made no progress');
    list = next;
  }
}

/** Writes batches with one write in flight, so the next block is read and processed during the write. */
class PipelinedWriter {
  private inflight: Promise<void> | null = null;
  bytes = 0;
  constructor(private readonly write: (bufs: Buffer[]) => Promise<void>) {}
  async put(bufs: Buffer[]): Promise<void> {
    if (bufs.length === 0) return;
    if (this.inflight) await this.inflight;
    for (const b of bufs) this.bytes += b.length;
    const p = this.write(bufs);
    p.catch(() => undefined); // awaited by the next put, flush or settle; never an unhandled rejection meanwhile
    this.inflight = p;
  }
  async flush(): Promise<void> {
    if (this.inflight) {
      const p = this.inflight;
      this.inflight = null;
      await p;
    }
  }
  /** Waits for the write in flight without throwing (used on the error path). */
  async settle(): Promise<void> {
    await this.inflight?.catch(() => undefined);
    this.inflight = null;
  }
}

function sinkWriter(sink: FileHandle | number | ((chunk: Buffer) => void | Promise<void>)): (bufs: Buffer[]) => Promise<void> {
  if (typeof sink === 'function') {
    return async (bufs) => {
      for (const b of bufs) if (b.length > 0) await sink(b);
    };
  }
  return (bufs) => writeAllFd(sink, bufs);
}

function toList(x: string | readonly string[]): readonly string[] {
  return typeof x === 'string' ? [x] : x;
}

// ---------------------------------------------------------------------------------------------
// Public API: encryption

export interface EncryptResult {
  plaintextBytes: number;
  ciphertextBytes: number;
}

/**
 * Encrypts `source` to the recipient(s) as an async iterator of ciphertext blocks (header + nonce
 * first, then about 1 MiB of sealed chunks at a time). Concatenated, the blocks are an age file.
 * Memory stays constant whatever the source size.
 */
export async function* encryptStream(source: ByteSource, recipients: string | readonly string[]): AsyncGenerator<Buffer> {
  const enc = new AgeEncryptor(toList(recipients));
  yield enc.preamble;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  for await (const block of sourceBlocks(source)) {
    const before = batch.length;
    enc.push(block, batch);
    for (let i = before; i < batch.length; i++) batchBytes += batch[i]!.length;
    if (batchBytes >= IO_BLOCK) {
      yield Buffer.concat(batch);
      batch = [];
      batchBytes = 0;
    }
  }
  enc.finish(batch);
  yield Buffer.concat(batch);
}

/**
 * Encrypts `source` into an already-open file (FileHandle or fd), at its current position, or into
 * a callback. Does not fsync or close: the caller owns the handle (write `dest.tmp`, fsync, close,
 * rename).
 */
export async function encryptToSink(
  source: ByteSource,
  recipients: string | readonly string[],
  sink: FileHandle | number | ((chunk: Buffer) => void | Promise<void>),
  opts: TapOptions = {},
): Promise<EncryptResult> {
  const enc = new AgeEncryptor(toList(recipients));
  const w = new PipelinedWriter(sinkWriter(sink));
  try {
    await w.put([enc.preamble]);
    for await (const block of sourceBlocks(source)) {
      opts.onPlaintext?.(block);
      await w.put(enc.push(block));
    }
    await w.put(enc.finish());
    await w.flush();
  } finally {
    await w.settle();
  }
  return { plaintextBytes: enc.plaintextBytes, ciphertextBytes: w.bytes };
}

/**
 * Encrypts `source` (a path, buffer or stream) to the recipient(s) into `destPath`, which is
 * created or truncated (mode 0600) and fsynced before it is closed unless `fsync: false`. Meant
 * for a temp name the caller then renames; on failure the partial `destPath` is removed.
 */
export async function encryptFileToRecipient(
  source: ByteSource,
  recipients: string | readonly string[],
  destPath: string,
  opts: { fsync?: boolean; mode?: number } & TapOptions = {},
): Promise<EncryptResult> {
  toList(recipients).forEach(parseRecipient); // fail before creating the file
  const fh = await open(destPath, 'w', opts.mode ?? 0o600);
  let ok = false;
  try {
    const res = await encryptToSink(source, recipients, fh, opts);
    if (opts.fsync !== false) await fh.sync();
    ok = true;
    return res;
  } finally {
    await fh.close().catch(() => undefined);
    if (!ok) await fs.promises.rm(destPath, { force: true }).catch(() => undefined);
  }
}

/**
 * The start of an age file to the recipient(s) — header, MAC line and payload nonce — and the
 * STREAM payload key, for a caller that seals the payload itself elsewhere (a worker thread):
 * 64 KiB ChaCha20-Poly1305 chunks, nonce = 11-byte big-endian counter ‖ last-chunk flag, the last
 * chunk possibly full but empty only for an empty file. Zero the key when done.
 */
export function prepareEncryption(recipients: string | readonly string[]): { preamble: Buffer; payloadKey: Buffer } {
  const enc = new AgeEncryptor(toList(recipients));
  return { preamble: enc.preamble, payloadKey: enc.takePayloadKey() };
}

/**
 * Reads and authenticates the header of the age file at `file` (unwrap with the identities, then
 * the header MAC) and returns the STREAM payload key and where the sealed chunks start, for a
 * caller that opens the payload itself elsewhere. Throws AgeError as decryptFile does.
 */
export async function openPayload(file: string, identities: string | readonly string[]): Promise<{ payloadKey: Buffer; payloadOffset: number }> {
  const unwrap = identityUnwrapper(identities);
  const fh = await open(file, 'r');
  try {
    let buf = Buffer.alloc(0);
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(4096, buf.length));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, buf.length);
      const more = bytesRead > 0;
      if (more) buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      const parsed = tryParseHeader(buf);
      if (parsed !== null) {
        const fileKey = unwrap(parsed.header);
        verifyHeaderMac(parsed.header, fileKey);
        while (buf.length < parsed.length + NONCE_LEN) {
          const c = Buffer.allocUnsafe(NONCE_LEN);
          const { bytesRead: n } = await fh.read(c, 0, NONCE_LEN, buf.length);
          if (n === 0) throw new AgeError('truncated', 'the file ends before the payload nonce');
          buf = Buffer.concat([buf, c.subarray(0, n)]);
        }
        const payloadKey = hkdf(fileKey, buf.subarray(parsed.length, parsed.length + NONCE_LEN), 'payload');
        fileKey.fill(0);
        return { payloadKey, payloadOffset: parsed.length + NONCE_LEN };
      }
      if (buf.length > MAX_HEADER_BYTES) throw malformed(`header larger than ${MAX_HEADER_BYTES} bytes`);
      if (!more) throw new AgeError('truncated', buf.length === 0 ? 'the file is empty' : 'the file ends inside the age header');
    }
  } finally {
    await fh.close();
  }
}

/** Encrypts a buffer in memory. */
export function encryptBufferToRecipient(plaintext: Uint8Array, recipients: string | readonly string[]): Buffer {
  return Buffer.concat(encryptBufferParts(plaintext, recipients));
}

/** Encrypts a buffer in memory into the pieces of the age file (header, sealed chunks), for one writev. */
export function encryptBufferParts(plaintext: Uint8Array | readonly Uint8Array[], recipients: string | readonly string[]): Buffer[] {
  const enc = new AgeEncryptor(toList(recipients));
  const out: Buffer[] = [enc.preamble];
  for (const p of plaintext instanceof Uint8Array ? [plaintext] : plaintext) enc.push(p, out);
  enc.finish(out);
  return out;
}

export interface TapOptions {
  /** Sees every plaintext block on its way in or out (e.g. to hash it in the same pass). */
  onPlaintext?: (chunk: Buffer | Uint8Array) => void;
}

// ---------------------------------------------------------------------------------------------
// Public API: decryption

export interface DecryptResult {
  plaintextBytes: number;
}

function identityUnwrapper(identities: string | readonly string[]): (header: Header) => Buffer {
  const ids = toList(identities).map(parseIdentity);
  if (ids.length === 0) throw new AgeError('invalid-key', 'at least one identity is required');
  return (header) => unwrapX25519(header, ids);
}

async function* decryptBlocks(source: ByteSource, unwrap: KeyUnwrapper): AsyncGenerator<Buffer[]> {
  const dec = new AgeDecryptor(unwrap);
  for await (const block of sourceBlocks(source)) {
    const out = await dec.push(block);
    if (out.length > 0) yield out;
  }
  yield dec.end();
}

/**
 * Decrypts `source` as an async iterator of plaintext chunks. Each yielded chunk has been
 * authenticated, but the file as a whole is only verified (final chunk present, nothing appended)
 * when the iterator finishes without throwing. Treat everything received as provisional until
 * then; on an AgeError, discard it.
 */
export async function* decryptStream(source: ByteSource, identities: string | readonly string[]): AsyncGenerator<Buffer> {
  for await (const out of decryptBlocks(source, identityUnwrapper(identities))) yield* out;
}

async function decryptInto(source: ByteSource, unwrap: KeyUnwrapper, sink: ByteSink, opts: TapOptions = {}): Promise<DecryptResult> {
  if (typeof sink === 'string') {
    const fh = await open(sink, 'w', 0o600);
    let ok = false;
    try {
      const res = await decryptInto(source, unwrap, fh, opts);
      ok = true;
      return res;
    } finally {
      await fh.close().catch(() => undefined);
      // Never leave unauthenticated or incomplete plaintext behind under the caller's name.
      if (!ok) await fs.promises.rm(sink, { force: true }).catch(() => undefined);
    }
  }
  const w = new PipelinedWriter(sinkWriter(sink));
  let bytes = 0;
  try {
    for await (const out of decryptBlocks(source, unwrap)) {
      for (const b of out) {
        bytes += b.length;
        opts.onPlaintext?.(b);
      }
      await w.put(out);
    }
    await w.flush();
  } finally {
    await w.settle();
  }
  return { plaintextBytes: bytes };
}

/**
 * Decrypts `source` (a path, buffer or stream) with the identity/identities, streaming, into `dest`:
 * - a path: created/truncated with mode 0600 (not fsynced); removed again if decryption fails;
 * - an open FileHandle / fd, or a callback: written as chunks authenticate. On rejection what was
 *   written is NOT a valid plaintext; write to a temp file and rename only when this resolves.
 * Rejects with AgeError (`not-age`, `truncated`, `tampered`, `no-matching-identity`, `invalid-key`)
 * or an I/O error.
 */
export async function decryptFile(source: ByteSource, identities: string | readonly string[], dest: ByteSink, opts: TapOptions = {}): Promise<DecryptResult> {
  return decryptInto(source, identityUnwrapper(identities), dest, opts);
}

/** Decrypts a whole age file held in memory into its authenticated plaintext chunks (no final copy); throws AgeError. */
export function decryptBufferParts(ciphertext: Uint8Array, identities: string | readonly string[]): Buffer[] {
  const unwrap = identityUnwrapper(identities);
  const buf = toBuffer(ciphertext);
  const { header, length } = parseWholeHeader(buf);
  return decryptPartsWithFileKey(header, unwrap(header), buf.subarray(length));
}

/** Decrypts a whole age file held in memory; throws AgeError. */
export function decryptBuffer(ciphertext: Uint8Array, identities: string | readonly string[]): Buffer {
  const unwrap = identityUnwrapper(identities);
  const buf = toBuffer(ciphertext);
  const { header, length } = parseWholeHeader(buf);
  return decryptWithFileKey(header, unwrap(header), buf.subarray(length));
}

// ---------------------------------------------------------------------------------------------
// Passphrase protection (for the repository key): age's scrypt recipient

/**
 * Encrypts a (small) buffer with a passphrase as an age file with a single scrypt stanza, readable
 * by `age -d`. Costs one scrypt of work factor 2^logN (default {@link SCRYPT_LOG_N}), computed by
 * Node's native scrypt off the main thread (~0.8 s at log N 18 here); where that is unavailable,
 * by age-encryption's JS scrypt (~1.6 s, blocking the event loop).
 */
export async function encryptWithPassphrase(plaintext: Uint8Array, passphrase: string, opts: { logN?: number } = {}): Promise<Buffer> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new AgeError('invalid-key', 'the passphrase is empty');
  const logN = opts.logN ?? SCRYPT_LOG_N;
  if (!Number.isInteger(logN) || logN < 1 || logN > MAX_SCRYPT_LOG_N) throw new AgeError('invalid-key', `scrypt work factor out of range: ${logN}`);
  // age's scrypt recipient (age-encryption.org/v1): salt 16 random bytes, the stanza
  // `-> scrypt <base64 salt> <log N>`, its body the file key sealed with ChaCha20-Poly1305 (zero
  // nonce) under scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r 8, p 1, 32 bytes).
  const salt = crypto.randomBytes(16);
  const key = await nativeScryptKey(passphrase, salt, logN).catch(() => null);
  if (key !== null) {
    try {
      const enc = new AgeEncryptor((fileKey) => [{ args: ['scrypt', b64encode(salt), String(logN)], body: Buffer.concat(AEAD.seal(key, ZERO_NONCE, fileKey)) }]);
      const out: Buffer[] = [enc.preamble];
      enc.push(plaintext, out);
      enc.finish(out);
      return Buffer.concat(out);
    } finally {
      key.fill(0);
    }
  }
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  e.setScryptWorkFactor(logN);
  return Buffer.from(await e.encrypt(plaintext));
}

function nativeScryptKey(passphrase: string, salt: Uint8Array, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise<Buffer>((resolve, reject) =>
    nodeScrypt(Buffer.from(passphrase, 'utf8'), Buffer.concat([Buffer.from('age-encryption.org/v1/scrypt'), salt]), 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 + (64 << 20) }, (err, k) => (err ? reject(err) : resolve(k))),
  );
}

/** Reads the scrypt work factor of a passphrase-protected file (throws AgeError if it is not one). */
export function passphraseWorkFactor(ciphertext: Uint8Array): number {
  return scryptStanza(toBuffer(ciphertext)).logN;
}

function scryptStanza(buf: Buffer): { header: Header; length: number; logN: number } {
  const parsed = parseWholeHeader(buf);
  const { stanzas } = parsed.header;
  const st = stanzas.find((s) => s.args[0] === 'scrypt');
  if (st === undefined) throw new AgeError('no-matching-identity', 'the file is not passphrase-protected (no scrypt stanza)');
  if (stanzas.length !== 1) throw malformed('an scrypt stanza must be the only stanza');
  if (st.args.length !== 3) throw malformed('scrypt stanza must have two arguments');
  const salt = b64decode(st.args[1]!);
  if (salt === null || salt.length !== 16) throw malformed('scrypt salt is not 16 bytes');
  if (!/^[1-9][0-9]?$/.test(st.args[2]!)) throw malformed('bad scrypt work factor');
  const logN = Number(st.args[2]);
  if (logN > MAX_SCRYPT_LOG_N) throw malformed(`scrypt work factor 2^${logN} exceeds the accepted maximum 2^${MAX_SCRYPT_LOG_N}`);
  if (st.body.length !== 32) throw malformed('scrypt stanza body is not 32 bytes');
  return { ...parsed, logN };
}

/**
 * Decrypts a passphrase-protected age file. Wrong passphrase → AgeError('wrong-passphrase').
 * Costs one scrypt (~1.25 s at logN 18 here), computed synchronously by age-encryption's JS scrypt:
 * the event loop is blocked for that time.
 */
export async function decryptWithPassphrase(ciphertext: Uint8Array, passphrase: string): Promise<Buffer> {
  const buf = toBuffer(ciphertext);
  const { header, length, logN } = scryptStanza(buf);
  // Node's native scrypt runs off the main thread (~0.8 s at log N 18 here, against ~1.6 s for
  // the JS one, which also blocks the event loop): the stanza's key is derived natively and the
  // file key unwrapped exactly as age does; any surprise falls back to age-encryption.
  const native = await nativeScryptUnwrap(header, passphrase, logN).catch(() => undefined);
  if (native === null) throw new AgeError('wrong-passphrase', 'the passphrase does not open this file');
  if (native) return decryptWithFileKey(header, native, buf.subarray(length));
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  let fileKey: Buffer;
  try {
    // age-encryption unwraps the scrypt stanza and checks the header MAC.
    fileKey = Buffer.from(await d.decryptHeader(header.bytes));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/no identity matched/i.test(msg)) throw new AgeError('wrong-passphrase', 'the passphrase does not open this file', { cause: err });
    if (/HMAC/i.test(msg)) throw new AgeError('tampered', 'header MAC mismatch: the header was altered', { cause: err });
    throw new AgeError('tampered', `the scrypt header was rejected: ${msg}`, { cause: err });
  }
  return decryptWithFileKey(header, fileKey, buf.subarray(length));
}

/** The file key from an scrypt stanza with Node's scrypt; null when the passphrase is wrong. */
async function nativeScryptUnwrap(header: Header, passphrase: string, logN: number): Promise<Buffer | null> {
  const st = header.stanzas[0]!;
  const key = await nativeScryptKey(passphrase, b64decode(st.args[1]!)!, logN);
  try {
    return AEAD.open(key, ZERO_NONCE, st.body);
  } finally {
    key.fill(0);
  }
}
