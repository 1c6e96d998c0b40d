// The repository's blob writer and reader: a blob name only ever points at data that was made
// durable before the rename; the plaintext is checked against its sha256 in the same pass as the
// encryption (so damage in the data root is not stored under a good name) and the decryption;
// large files are hashed by the worker thread reading the same descriptor.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { decryptBuffer, generateIdentity, openPayload, prepareEncryption } from '../../electron/core/backup/age.js';
import * as offload from '../../electron/core/backup/offload.js';
import { fileHash } from '../../electron/core/backup/offload.js';
import { BlobDamagedError, Repository, forEachLimit } from '../../electron/core/backup/repo.js';
import { UserError } from '../../electron/api/handlers.js';
import { tempDir } from '../helpers/env.js';

const PASS = 'correct horse battery staple';
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

let t: { dir: string; cleanup: () => void };
let repo: Repository;
let n = 0;
const src = (bytes: Uint8Array): string => {
  const f = path.join(t.dir, 'src', `f${n++}`);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, bytes);
  return f;
};
const tmpsIn = (dir: string): string[] =>
  (fs.readdirSync(path.join(dir, 'data'), { recursive: true }) as string[]).filter((f) => path.basename(f).includes('.tmp-'));

beforeAll(async () => {
  t = tempDir('lifeline-blobs-');
  repo = await Repository.init(path.join(t.dir, 'repo'), PASS);
});
afterAll(() => t.cleanup());

describe('the blob writer', () => {
  it('names a blob only after a flush that followed its complete temp file, and flushes once more after the last name', async () => {
    // Each flush records the temp files' contents and the blob names present at that moment.
    const flushes: { last: boolean; temps: Set<string>; names: Set<string> }[] = [];
    const dir = path.join(t.dir, 'order-repo');
    const r = await Repository.init(dir, PASS);
    const w = r.blobWriter({
      flush: async (_d, last) => {
        const temps = new Set<string>();
        const names = new Set<string>();
        for (const f of fs.readdirSync(path.join(dir, 'data'), { recursive: true }) as string[]) {
          const p = path.join(dir, 'data', f);
          if (!fs.statSync(p).isFile()) continue;
          (path.basename(f).includes('.tmp-') ? temps : names).add(path.basename(f).includes('.tmp-') ? sha(fs.readFileSync(p)) : path.basename(f, '.age'));
        }
        flushes.push({ last, temps, names });
      },
    });
    // Sizes across both paths (in memory, streamed) and enough files for several batches.
    const files = Array.from({ length: 1200 }, (_, i) => crypto.randomBytes(i % 400 === 0 ? 5_000_000 + i : 200 + (i % 50)));
    const blobs = files.map((b) => r.blobName(sha(b)));
    await forEachLimit(files, 4, async (b, i) => {
      await w.put(src(b), blobs[i]!, { sha256: sha(b) });
    });
    await w.finish();
    expect(tmpsIn(dir)).toEqual([]);
    expect(flushes.length).toBeGreaterThanOrEqual(3);
    expect(flushes.at(-1)!.last).toBe(true);
    expect(flushes.at(-1)!.names.size).toBe(new Set(blobs).size);
    for (const blob of new Set(blobs)) {
      const sealed = sha(fs.readFileSync(r.blobPath(blob)));
      const firstSeen = flushes.findIndex((f) => f.names.has(blob));
      const durableAt = flushes.findIndex((f) => f.temps.has(sealed));
      expect(durableAt, `blob ${blob.slice(0, 8)} was flushed as a temp file before it got its name`).toBeGreaterThanOrEqual(0);
      expect(durableAt).toBeLessThan(firstSeen);
    }
    // And every blob decrypts to its file.
    for (const i of [0, 1, 400, 1199]) {
      const out = path.join(t.dir, `back-${i}`);
      await r.getFile(blobs[i]!, sha(files[i]!), out);
      expect(fs.readFileSync(out).equals(files[i]!)).toBe(true);
    }
  }, 120_000);

  for (const size of [1000, 9_000_000]) {
    it(`refuses a ${size}-byte source that does not match its recorded sha256, and leaves no temp file`, async () => {
      const good = crypto.randomBytes(size);
      const bad = Buffer.from(good);
      bad[Math.floor(size / 2)]! ^= 1;
      const w = repo.blobWriter();
      const blob = repo.blobName(sha(good));
      const err = await w.put(src(bad), blob, { sha256: sha(good) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('source-damaged');
      await w.abort();
      expect(repo.hasBlob(blob)).toBe(false);
      expect(tmpsIn(repo.dir)).toEqual([]);
    });
  }

  it('a large file round-trips, and the standard decryption reads its blob', async () => {
    const big = crypto.randomBytes(12_345_678);
    const blob = repo.blobName(sha(big));
    await repo.putFile(src(big), blob, { sha256: sha(big) });
    const out = path.join(t.dir, 'big.out');
    expect(await repo.getFile(blob, sha(big), out)).toBe(big.length);
    expect(sha(fs.readFileSync(out))).toBe(sha(big));
    await expect(repo.checkBlob(blob, sha(big))).resolves.toBeUndefined();
  });

  for (const size of [1000, 9_000_000]) {
    it(`a ${size}-byte blob whose (authentic) content is not what the manifest says is refused on restore, with no file left`, async () => {
      const stored = crypto.randomBytes(size);
      const claimed = crypto.randomBytes(size);
      // Stored under the name of other content (what a damaged source would have given without the check).
      const blob = repo.blobName(sha(claimed));
      await repo.putFile(src(stored), blob);
      const out = path.join(t.dir, `mismatch-${size}`);
      const err = await repo.getFile(blob, sha(claimed), out).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlobDamagedError);
      expect(String(err)).toMatch(/does not match the recorded sha256/);
      expect(fs.readdirSync(t.dir).filter((f) => f.startsWith(`mismatch-${size}`))).toEqual([]);
      await expect(repo.checkBlob(blob, sha(claimed))).rejects.toBeInstanceOf(BlobDamagedError);
    });
  }

  it('removes temp files of interrupted writes only once they are old', async () => {
    const d = path.join(repo.dir, 'data', 'ab');
    fs.mkdirSync(d, { recursive: true });
    const old = path.join(d, `.${'a'.repeat(64)}.tmp-1-abcdef`);
    const fresh = path.join(d, `.${'b'.repeat(64)}.tmp-2-abcdef`);
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(fresh, 'y');
    const day = Date.now() / 1000 - 86_400;
    fs.utimesSync(old, day, day);
    expect(repo.removeStaleTemps()).toBe(1);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
    fs.rmSync(fresh);
  });
});

describe('the hashing worker', () => {
  it('hashes ranges in order, and whole files, exactly as createHash does', async () => {
    const data = crypto.randomBytes(3_000_001);
    const f = src(data);
    const fd = fs.openSync(f, 'r');
    try {
      const h = fileHash();
      for (let pos = 0; pos < data.length; pos += 700_000) h.range(fd, pos, Math.min(700_000, data.length - pos));
      expect(await h.digest()).toEqual({ sha256: sha(data), bytes: data.length });
      const whole = fileHash();
      whole.rest(fd, 0);
      expect(await whole.digest()).toEqual({ sha256: sha(data), bytes: data.length });
      const many = await Promise.all(Array.from({ length: 8 }, () => {
        const x = fileHash();
        x.rest(fd, 1);
        return x.digest();
      }));
      for (const m of many) expect(m.sha256).toBe(sha(data.subarray(1)));
    } finally {
      fs.closeSync(fd);
    }
  });

  it('reports a range past the end of the file as an error, not a short hash', async () => {
    const f = src(crypto.randomBytes(1000));
    const fd = fs.openSync(f, 'r');
    try {
      const h = fileHash();
      h.range(fd, 0, 2000);
      await expect(h.digest()).rejects.toThrow(/ended 1000 bytes early/);
    } finally {
      fs.closeSync(fd);
    }
  });
});

const AGE = '/usr/bin/age';
describe.skipIf(!offload.available())('the workers seal and open age payloads', () => {
  const me = generateIdentity();
  const CHUNK = 64 * 1024;
  let idFile = '';
  beforeAll(() => {
    idFile = path.join(t.dir, 'id.txt');
    fs.writeFileSync(idFile, me.identity + '\n', { mode: 0o600 });
  });

  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, (1 << 20) + CHUNK, 5_000_123]) {
    it(`a ${size}-byte file sealed by a worker is an age file (age -d, this module) and opens on a worker again`, async () => {
      const plain = crypto.randomBytes(size);
      const s = src(plain);
      const sealed = path.join(t.dir, `w-${size}.age`);
      const { preamble, payloadKey } = prepareEncryption(me.recipient);
      const r = await offload.sealFile(s, sealed, preamble, payloadKey, { fsync: false, mode: 0o600 });
      expect(payloadKey.every((b) => b === 0)).toBe(true);
      expect(r).toMatchObject({ sha256: sha(plain), plaintextBytes: size, ciphertextBytes: fs.statSync(sealed).size });
      expect(decryptBuffer(fs.readFileSync(sealed), me.identity).equals(plain)).toBe(true);
      if (fs.existsSync(AGE)) expect(execFileSync(AGE, ['-d', '-i', idFile, sealed], { maxBuffer: 64 << 20 }).equals(plain)).toBe(true);
      // And files written by the age CLI open on a worker.
      const theirs = path.join(t.dir, `cli-${size}.age`);
      if (fs.existsSync(AGE)) execFileSync(AGE, ['-r', me.recipient, '-o', theirs, s]);
      else fs.copyFileSync(sealed, theirs);
      const { payloadKey: k, payloadOffset } = await openPayload(theirs, me.identity);
      const out = path.join(t.dir, `w-${size}.out`);
      expect(await offload.openFile(theirs, payloadOffset, out, k, { fsync: false, mode: 0o600 })).toEqual({ sha256: sha(plain), plaintextBytes: size });
      expect(fs.readFileSync(out).equals(plain)).toBe(true);
    });
  }

  it('a file hashed moments ago is sealed without hashing it again: no sha256 comes back, and the age file is the same', async () => {
    const plain = crypto.randomBytes(2 * CHUNK + 7);
    const sealed = path.join(t.dir, 'nohash.age');
    const { preamble, payloadKey } = prepareEncryption(me.recipient);
    const r = await offload.sealFile(src(plain), sealed, preamble, payloadKey, { fsync: false, mode: 0o600, hash: false, size: plain.length });
    expect(r).toEqual({ sha256: null, plaintextBytes: plain.length, ciphertextBytes: fs.statSync(sealed).size });
    expect(decryptBuffer(fs.readFileSync(sealed), me.identity).equals(plain)).toBe(true);
  });

  it('a backup cancelled while workers still seal its large files leaves neither temp files nor blobs behind', async () => {
    const dir = path.join(t.dir, 'abort-repo');
    const r = await Repository.init(dir, PASS);
    const w = r.blobWriter();
    const files = Array.from({ length: 4 }, () => crypto.randomBytes(5_000_000));
    const puts = files.map((b) => w.put(src(b), r.blobName(sha(b)), { sha256: sha(b) }));
    await w.abort(); // at once: every seal is still under way
    const outcomes = await Promise.allSettled(puts);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(tmpsIn(dir)).toEqual([]);
    expect(r.allBlobs()).toEqual([]);
  });

  it('a payload that is cut, extended, or has a flipped byte does not open on a worker (null)', async () => {
    const plain = crypto.randomBytes(3 * CHUNK + 100);
    const s = src(plain);
    const good = path.join(t.dir, 'good.age');
    const { preamble, payloadKey } = prepareEncryption(me.recipient);
    await offload.sealFile(s, good, preamble, payloadKey, { fsync: false, mode: 0o600 });
    const bytes = fs.readFileSync(good);
    const variants: Record<string, Buffer> = {
      'cut at a chunk boundary': bytes.subarray(0, bytes.length - 100 - 16),
      'cut inside a chunk': bytes.subarray(0, bytes.length - 7),
      extended: Buffer.concat([bytes, Buffer.alloc(1)]),
      flipped: (() => {
        const b = Buffer.from(bytes);
        b[b.length - 5000]! ^= 1;
        return b;
      })(),
    };
    for (const [what, v] of Object.entries(variants)) {
      const f = path.join(t.dir, 'bad.age');
      fs.writeFileSync(f, v);
      const { payloadKey: k, payloadOffset } = await openPayload(f, me.identity);
      expect(await offload.openFile(f, payloadOffset, path.join(t.dir, 'bad.out'), k, { fsync: false, mode: 0o600 }), what).toBeNull();
    }
  });

  it.skipIf(process.platform !== 'linux')("a backup's sealing runs below the main thread (nice 10); a restore's decryption at the main thread's priority", async () => {
    // Field 19 of /proc/<pid>/task/<tid>/stat (after the parenthesised name) is the thread's nice value.
    const nice = (tid: string) => Number(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
    const niced = () => fs.readdirSync('/proc/self/task').filter((tid) => nice(tid) === 10);
    const plain = crypto.randomBytes(4 << 20);
    const s = src(plain);
    const sealed = path.join(t.dir, 'nice.age');
    const { preamble, payloadKey } = prepareEncryption(me.recipient);
    await offload.sealFile(s, sealed, preamble, payloadKey, { fsync: false, mode: 0o600 });
    expect(nice(String(process.pid))).toBe(os.getPriority(0));
    expect(niced().length).toBeGreaterThanOrEqual(1);
    // Decrypting on every worker at once (the jobs are spread by size): none stays below, where
    // this process may raise a thread's priority again (root, or CAP_SYS_NICE).
    const { payloadOffset } = await openPayload(sealed, me.identity);
    const opened = await Promise.all(
      [0, 1, 2, 3].map(async (i) => offload.openFile(sealed, payloadOffset, path.join(t.dir, `nice-${i}.out`), (await openPayload(sealed, me.identity)).payloadKey, { fsync: false, mode: 0o600, size: plain.length })),
    );
    expect(opened.map((o) => o?.sha256)).toEqual([0, 1, 2, 3].map(() => sha(plain)));
    if (process.getuid?.() === 0) expect(niced()).toEqual([]);
  });

  it('a large file is decrypted by one worker and hashed by another from the file: restored byte for byte; damaged or foreign blobs refused', async () => {
    const big = crypto.randomBytes(offload.SHARED_OPEN_MIN + 123_457);
    const blob = repo.blobName(sha(big));
    await repo.putFile(src(big), blob, { sha256: sha(big) });
    const file = repo.blobPath(blob);
    const good = fs.readFileSync(file);
    const out = path.join(t.dir, 'shared.out');
    expect(await repo.getFile(blob, sha(big), out)).toBe(big.length);
    expect(fs.readFileSync(out).equals(big)).toBe(true);
    fs.rmSync(out);
    // The payload starts after the header's last line ("--- <mac>") and the 16-byte nonce.
    const payload = good.indexOf('\n', good.indexOf('\n--- ') + 1) + 1 + 16;
    const CT_CHUNK = 65536 + 16;
    const flipped = Buffer.from(good);
    flipped[payload + 20 * CT_CHUNK + 99]! ^= 1;
    const foreignPlain = crypto.randomBytes(big.length);
    const foreignBlob = repo.blobName(sha(foreignPlain));
    await repo.putFile(src(foreignPlain), foreignBlob, { sha256: sha(foreignPlain) });
    const variants: [string, Buffer, RegExp][] = [
      ['a flipped byte', flipped, /tampered|authentication/],
      ['cut at a chunk boundary', good.subarray(0, payload + 400 * CT_CHUNK), /truncated|tampered|authentication/],
      ['another file validly encrypted to this repository, under this name', fs.readFileSync(repo.blobPath(foreignBlob)), /does not match the recorded sha256/],
    ];
    for (const [what, bytes, reason] of variants) {
      fs.writeFileSync(file, bytes);
      const err = await repo.getFile(blob, sha(big), out).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(BlobDamagedError);
      expect(String(err), what).toMatch(reason);
      expect(fs.readdirSync(t.dir).filter((f) => f.startsWith('shared.out')), what).toEqual([]);
    }
    fs.writeFileSync(file, good);
  });

  it('a restore reports a damaged large blob exactly (decrypted again on the main thread) and leaves nothing behind', async () => {
    const big = crypto.randomBytes(6_000_000);
    const blob = repo.blobName(sha(big));
    await repo.putFile(src(big), blob, { sha256: sha(big) });
    const file = repo.blobPath(blob);
    const b = fs.readFileSync(file);
    fs.writeFileSync(file, b.subarray(0, b.length - 10));
    const out = path.join(t.dir, 'cut.out');
    const err = await repo.getFile(blob, sha(big), out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobDamagedError);
    expect(String(err)).toMatch(/truncated/);
    expect(fs.readdirSync(t.dir).filter((f) => f.startsWith('cut.out'))).toEqual([]);
    // `backups verify` says the same.
    await expect(repo.checkBlob(blob, sha(big))).rejects.toThrow(/truncated/);
  });
});
