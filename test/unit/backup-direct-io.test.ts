// Large blobs and restored models go past the page cache (O_DIRECT), and blobs are read from the
// drive itself: the bytes are the same as through the page cache, at every size around the
// 4 KiB blocks and the worker's 4 MiB buffers; the files are not left in the page cache
// (`fincore`); where a filesystem refuses O_DIRECT, at open or at each read and write, the same
// bytes go through the page cache; and a drive that fills up mid-write is reported as full.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decryptBuffer, generateIdentity, openPayload, prepareEncryption } from '../../electron/core/backup/age.js';
import * as offload from '../../electron/core/backup/offload.js';
import { Repository } from '../../electron/core/backup/repo.js';
import { UserError } from '../../electron/api/handlers.js';
import { tempDir } from '../helpers/env.js';
import { canUseLoopDevices, createLoopDrive, detachAllLoopDrives } from '../helpers/loopdev.js';

const AGE = '/usr/bin/age';
const DIO = 4 << 20;
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const hasFincore = spawnSync('sh', ['-c', 'command -v fincore']).status === 0;
if (!hasFincore) console.warn('not checking what stays in the page cache: fincore is not installed (apt-get install util-linux)');
/** Bytes of `file` in the page cache (util-linux fincore); null without fincore. */
const cached = (file: string): number | null => (hasFincore ? Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim()) : null);

let t: { dir: string; cleanup: () => void };
const me = generateIdentity();
let idFile = '';
beforeAll(() => {
  t = tempDir('lifeline-dio-');
  idFile = path.join(t.dir, 'id.txt');
  fs.writeFileSync(idFile, me.identity + '\n', { mode: 0o600 });
});
afterAll(() => t.cleanup());

/** Seals `plain` on a worker into a new file; returns its path and the worker's answer. */
async function seal(plain: Buffer, name: string, opts: { direct: boolean; mockRefusingDirect?: 'open' | 'io' }) {
  const src = path.join(t.dir, `${name}.src`);
  fs.writeFileSync(src, plain);
  const sealed = path.join(t.dir, `${name}.age`);
  const { preamble, payloadKey } = prepareEncryption(me.recipient);
  const r = await offload.sealFile(src, sealed, preamble, payloadKey, { fsync: false, mode: 0o600, size: plain.length, ...opts });
  return { sealed, r };
}

describe('direct I/O on a worker', () => {
  let headerBytes = 0;
  beforeAll(async () => {
    // The age header for one X25519 recipient has a fixed length: an empty file is it, the
    // payload nonce (16) and one empty chunk's tag (16).
    const { r } = await seal(Buffer.alloc(0), 'empty', { direct: true });
    headerBytes = r.ciphertextBytes - 32;
  });
  /** The plaintext size whose age file is exactly `total` bytes (total just above a chunk boundary's jump). */
  const plainFor = (total: number): number => {
    for (let s = total - headerBytes - 16 - 16 * Math.ceil(total / 65536); s < total; s++) {
      if (headerBytes + 16 + s + 16 * Math.max(1, Math.ceil(s / 65536)) === total) return s;
    }
    throw new Error(`no plaintext size seals to ${total} bytes`);
  };

  const cases: [string, () => number][] = [
    ['one byte (one padded block, cut back)', () => 1],
    ['three buffers and a bit (reads and writes cross buffers)', () => 3 * DIO + 12_345],
    ['an age file of whole blocks (the last write needs no padding)', () => plainFor(5 * DIO + 3 * 4096)],
    ['an age file of exactly two buffers (nothing left for the last write)', () => plainFor(2 * DIO)],
  ];
  for (const [what, size] of cases) {
    it(`${what}: sealed and opened past the page cache, byte for byte; age -d reads the blob`, async () => {
      const plain = crypto.randomBytes(size());
      const { sealed, r } = await seal(plain, `c${plain.length}`, { direct: true });
      expect(r).toMatchObject({ sha256: sha(plain), plaintextBytes: plain.length, ciphertextBytes: fs.statSync(sealed).size });
      expect(cached(sealed) ?? 0).toBe(0);
      const { payloadKey, payloadOffset } = await openPayload(sealed, me.identity);
      const out = path.join(t.dir, `c${plain.length}.out`);
      expect(await offload.openFile(sealed, payloadOffset, out, payloadKey, { fsync: false, mode: 0o600, size: fs.statSync(sealed).size, direct: true })).toEqual({ sha256: sha(plain), plaintextBytes: plain.length });
      expect(cached(out) ?? 0).toBe(0);
      // Read from the drive: openPayload read the header (the first block), nothing more is cached.
      expect(cached(sealed) ?? 0).toBeLessThanOrEqual(64 << 10);
      expect(fs.statSync(out).size).toBe(plain.length);
      expect(fs.readFileSync(out).equals(plain)).toBe(true);
      expect(decryptBuffer(fs.readFileSync(sealed), me.identity).equals(plain)).toBe(true);
      if (fs.existsSync(AGE)) expect(execFileSync(AGE, ['-d', '-i', idFile, sealed], { maxBuffer: 64 << 20 }).equals(plain)).toBe(true);
    });
  }

  for (const refusal of ['open', 'io'] as const) {
    it(`where the filesystem refuses O_DIRECT (${refusal === 'open' ? 'at open' : 'at each read and write'}; a mock), the same bytes go through the page cache`, async () => {
      const plain = crypto.randomBytes(2 * DIO + 777);
      const { sealed, r } = await seal(plain, `refused-${refusal}`, { direct: true, mockRefusingDirect: refusal });
      expect(r.sha256).toBe(sha(plain));
      if (hasFincore) expect(cached(sealed)).toBeGreaterThan(0);
      expect(decryptBuffer(fs.readFileSync(sealed), me.identity).equals(plain)).toBe(true);
      const { payloadKey, payloadOffset } = await openPayload(sealed, me.identity);
      const out = path.join(t.dir, `refused-${refusal}.out`);
      expect(await offload.openFile(sealed, payloadOffset, out, payloadKey, { fsync: false, mode: 0o600, size: fs.statSync(sealed).size, direct: true, mockRefusingDirect: refusal })).toEqual({
        sha256: sha(plain),
        plaintextBytes: plain.length,
      });
      if (hasFincore) expect(cached(out)).toBeGreaterThan(0);
      expect(fs.readFileSync(out).equals(plain)).toBe(true);
    });
  }

  it('a payload read from the drive that was tampered with does not open (null), as through the page cache', async () => {
    const plain = crypto.randomBytes(DIO + 99);
    const { sealed } = await seal(plain, 'tampered', { direct: true });
    const bytes = fs.readFileSync(sealed);
    bytes[bytes.length - 5_000]! ^= 1;
    fs.writeFileSync(sealed, bytes);
    const { payloadKey, payloadOffset } = await openPayload(sealed, me.identity);
    expect(await offload.openFile(sealed, payloadOffset, path.join(t.dir, 'tampered.out'), payloadKey, { fsync: false, mode: 0o600, size: bytes.length, direct: true })).toBeNull();
  });
});

const loop = canUseLoopDevices();
if (!loop.ok) console.warn(`skipping the full-drive direct write test: ${loop.reason}`);
describe.skipIf(!loop.ok)('a drive that fills up during a direct write', () => {
  afterEach(() => detachAllLoopDrives());
  it('is reported as full, and leaves no temp file', async () => {
    const drive = createLoopDrive({ sizeMiB: 8, label: 'FULL' });
    const repo = await Repository.init(path.join(drive.mountpoint, 'repo'), 'correct horse battery staple');
    const plain = crypto.randomBytes(16 << 20);
    const src = path.join(t.dir, 'too-big.src');
    fs.writeFileSync(src, plain);
    const err = await repo.putFile(src, repo.blobName(sha(plain)), { sha256: sha(plain) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('disk-full');
    expect(String(err)).toMatch(/disk is full/);
    expect((fs.readdirSync(path.join(repo.dir, 'data'), { recursive: true }) as string[]).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 60_000);
});
