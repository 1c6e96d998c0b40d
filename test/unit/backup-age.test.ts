import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgeError,
  cryptoBackend,
  forceJsCrypto,
  type AgeErrorCode,
  decryptBuffer,
  decryptFile,
  decryptStream,
  decryptWithPassphrase,
  encryptBufferToRecipient,
  encryptFileToRecipient,
  encryptStream,
  encryptToSink,
  encryptWithPassphrase,
  generateIdentity,
  identityToRecipient,
  isRecipient,
  parseIdentityFile,
  passphraseWorkFactor,
  SCRYPT_LOG_N,
} from '../../electron/core/backup/age.js';
import { tempDir } from '../helpers/env.js';

const AGE = '/usr/bin/age';
const AGE_KEYGEN = '/usr/bin/age-keygen';
const SCRIPT = '/usr/bin/script';
const haveAge = fs.existsSync(AGE) && fs.existsSync(AGE_KEYGEN);
const havePty = haveAge && fs.existsSync(SCRIPT);
const NO_AGE = `the age CLI is not installed at ${AGE} (Debian package "age"); interoperability is untested`;
const NO_PTY = `${SCRIPT} (util-linux) is needed to give the age CLI a terminal for its passphrase prompt`;

const CHUNK = 64 * 1024;
const CT_CHUNK = CHUNK + 16;
const SIZES = [0, 1, 65535, 65536, 65537, 3 * CHUNK, 5_000_000 + 123];

let dir = '';
let cleanup = () => {};
const me = generateIdentity();
const other = generateIdentity();
let identityFile = '';

beforeAll(() => {
  ({ dir, cleanup } = tempDir('lifeline-age-'));
  identityFile = path.join(dir, 'identity.txt');
  fs.writeFileSync(identityFile, `# test identity\n${me.identity}\n`, { mode: 0o600 });
});
afterAll(() => cleanup());

let seq = 0;
const tmp = (name: string): string => path.join(dir, `${seq++}-${name}`);

function age(args: string[]): Buffer {
  return execFileSync(AGE, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/**
 * Runs the age CLI under a pseudo-terminal (util-linux `script`), answering each passphrase prompt
 * it prints with `passphrase`. age reads passphrases only from a terminal, never from stdin.
 */
function ageWithPty(args: string[], passphrase: string): Promise<{ code: number | null; output: string }> {
  const cmd = [AGE, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      const prompts = output.match(/(Enter|Confirm) passphrase/g)?.length ?? 0;
      while (answered < prompts) {
        child.stdin.write(passphrase + '\n');
        answered++;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function sha256(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<AgeErrorCode | 'ok'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (err) {
    if (err instanceof AgeError) return err.code;
    throw err;
  }
}

/** Header length of an age file (bytes through the MAC line's newline). */
function headerLength(file: Buffer): number {
  const i = file.indexOf('\n--- ');
  return file.indexOf(0x0a, i + 1) + 1;
}

describe('age keys', () => {
  it('generates an uppercase AGE-SECRET-KEY-1 identity and an age1 recipient', () => {
    expect(me.identity).toMatch(/^AGE-SECRET-KEY-1[023456789ACDEFGHJKLMNPQRSTUVWXYZ]{58}$/);
    expect(me.recipient).toMatch(/^age1[023456789acdefghjklmnpqrstuvwxyz]{58}$/);
    expect(identityToRecipient(me.identity)).toBe(me.recipient);
    expect(isRecipient(me.recipient)).toBe(true);
    expect(isRecipient(me.recipient.slice(0, -1) + (me.recipient.endsWith('q') ? 'p' : 'q'))).toBe(false);
    expect(generateIdentity().identity).not.toBe(me.identity);
  });

  it.skipIf(!haveAge)('derives the same recipient as age-keygen, in both directions', () => {
    expect(execFileSync(AGE_KEYGEN, ['-y', identityFile]).toString().trim()).toBe(me.recipient);
    const theirs = tmp('keygen.txt');
    execFileSync(AGE_KEYGEN, ['-o', theirs], { stdio: 'ignore' });
    const [id] = parseIdentityFile(fs.readFileSync(theirs, 'utf8'));
    expect(identityToRecipient(id!)).toBe(execFileSync(AGE_KEYGEN, ['-y', theirs]).toString().trim());
  });

  it('refuses malformed recipients and identities with invalid-key', async () => {
    expect(await codeOf(() => encryptBufferToRecipient(Buffer.from('x'), 'age1notarecipient'))).toBe('invalid-key');
    expect(await codeOf(() => encryptBufferToRecipient(Buffer.from('x'), me.identity))).toBe('invalid-key');
    expect(await codeOf(() => decryptBuffer(Buffer.alloc(0), me.recipient))).toBe('invalid-key');
    expect(await codeOf(() => identityToRecipient(me.identity.toLowerCase().replace(/.$/, 'x')))).toBe('invalid-key');
  });
});

describe.skipIf(!haveAge)(`interoperability with the age CLI (${haveAge ? 'present' : NO_AGE})`, () => {
  for (const size of SIZES) {
    it(`a ${size}-byte file encrypted here is decrypted by age -d byte-identically`, async () => {
      const src = tmp(`plain-${size}`);
      fs.writeFileSync(src, crypto.randomBytes(size));
      const enc = tmp(`plain-${size}.age`);
      const res = await encryptFileToRecipient(src, me.recipient, enc);
      expect(res.plaintextBytes).toBe(size);
      expect(res.ciphertextBytes).toBe(fs.statSync(enc).size);
      // To stdout: with -o, age creates no output file at all for an empty plaintext.
      expect(age(['-d', '-i', identityFile, enc]).equals(fs.readFileSync(src))).toBe(true);
    });

    it(`a ${size}-byte file encrypted by age -r is decrypted here byte-identically`, async () => {
      const src = tmp(`theirs-${size}`);
      const plain = crypto.randomBytes(size);
      fs.writeFileSync(src, plain);
      const enc = tmp(`theirs-${size}.age`);
      age(['-r', me.recipient, '-o', enc, src]);
      const out = tmp(`theirs-${size}.out`);
      const res = await decryptFile(enc, me.identity, out);
      expect(res.plaintextBytes).toBe(size);
      expect(fs.readFileSync(out).equals(plain)).toBe(true);
      expect(decryptBuffer(fs.readFileSync(enc), me.identity).equals(plain)).toBe(true);
    });
  }

  it('the buffer, iterator and open-handle encryptors all produce files age -d reads', async () => {
    const plain = crypto.randomBytes(3 * CHUNK + 17);
    const viaBuffer = tmp('buf.age');
    fs.writeFileSync(viaBuffer, encryptBufferToRecipient(plain, [other.recipient, me.recipient]));
    const viaIter = tmp('iter.age');
    const parts: Buffer[] = [];
    // A stream of odd-sized pieces exercises chunk assembly.
    const pieces = Readable.from(Array.from({ length: Math.ceil(plain.length / 1000) }, (_, i) => plain.subarray(i * 1000, i * 1000 + 1000)));
    for await (const b of encryptStream(pieces, me.recipient)) parts.push(b);
    fs.writeFileSync(viaIter, Buffer.concat(parts));
    const viaHandle = tmp('handle.age');
    const fh = await fs.promises.open(viaHandle, 'w');
    await encryptToSink(plain, me.recipient, fh);
    await fh.sync();
    await fh.close();
    const viaFd = tmp('fd.age');
    const fd = fs.openSync(viaFd, 'w');
    await encryptToSink(plain, me.recipient, fd);
    fs.closeSync(fd);
    for (const f of [viaBuffer, viaIter, viaHandle, viaFd]) {
      expect(age(['-d', '-i', identityFile, f]).equals(plain)).toBe(true);
    }
  });

  it('an age file read from a stream in small pieces decrypts chunk by chunk', async () => {
    const plain = crypto.randomBytes(2 * CHUNK + 5);
    const src = tmp('s');
    fs.writeFileSync(src, plain);
    const enc = tmp('s.age');
    age(['-r', other.recipient, '-r', me.recipient, '-o', enc, src]);
    const got: Buffer[] = [];
    for await (const b of decryptStream(fs.createReadStream(enc, { highWaterMark: 777 }), [other.identity, me.identity])) got.push(b);
    expect(got.length).toBe(3);
    expect(Buffer.concat(got).equals(plain)).toBe(true);
  });

  it('refuses an ASCII-armored age file as not-age', async () => {
    const src = tmp('a');
    fs.writeFileSync(src, 'hello');
    const armored = tmp('a.age');
    age(['-a', '-r', me.recipient, '-o', armored, src]);
    expect(await codeOf(() => decryptBuffer(fs.readFileSync(armored), me.identity))).toBe('not-age');
  });
});

describe.skipIf(!haveAge)(`the pure-JS fallback used where Node lacks native ChaCha20-Poly1305 / X25519 (Electron's BoringSSL)`, () => {
  beforeAll(() => forceJsCrypto(true));
  afterAll(() => forceJsCrypto(false));

  it('native implementations are the ones used under plain Node', () => {
    forceJsCrypto(false);
    expect(cryptoBackend()).toEqual({ x25519: 'node', aead: 'node' });
    forceJsCrypto(true);
    expect(cryptoBackend()).toEqual({ x25519: 'js', aead: 'js' });
  });

  for (const size of [0, 65536, 65537, 200_000]) {
    it(`a ${size}-byte file round-trips between the JS fallback, the native path and the age CLI`, async () => {
      const plain = crypto.randomBytes(size);
      const src = tmp(`js-${size}`);
      fs.writeFileSync(src, plain);
      const ours = tmp(`js-${size}.age`);
      await encryptFileToRecipient(src, me.recipient, ours, { fsync: false });
      expect(age(['-d', '-i', identityFile, ours]).equals(plain)).toBe(true);
      const theirs = tmp(`js-${size}-cli.age`);
      age(['-r', me.recipient, '-o', theirs, src]);
      expect(decryptBuffer(fs.readFileSync(theirs), me.identity).equals(plain)).toBe(true);
      forceJsCrypto(false);
      try {
        expect(decryptBuffer(fs.readFileSync(ours), me.identity).equals(plain)).toBe(true);
        const native = encryptBufferToRecipient(plain, me.recipient);
        forceJsCrypto(true);
        expect(decryptBuffer(native, me.identity).equals(plain)).toBe(true);
      } finally {
        forceJsCrypto(true);
      }
      expect(identityToRecipient(me.identity)).toBe(me.recipient);
      expect(await codeOf(() => decryptBuffer(fs.readFileSync(ours).subarray(0, -1), me.identity))).toBe('truncated');
    });
  }
});

describe.skipIf(!havePty)(`passphrase protection with the age CLI (${havePty ? 'present' : haveAge ? NO_PTY : NO_AGE})`, () => {
  it('a key protected here with the default work factor is decrypted by age -d given the passphrase', async () => {
    const key = Buffer.from(generateIdentity().identity + '\n');
    const t0 = performance.now();
    const enc = await encryptWithPassphrase(key, 'correct horse battery staple');
    const encMs = performance.now() - t0;
    expect(passphraseWorkFactor(enc)).toBe(SCRYPT_LOG_N);
    const file = tmp('key.age');
    fs.writeFileSync(file, enc);
    const out = tmp('key.out');
    const { code, output } = await ageWithPty(['-d', '-o', out, file], 'correct horse battery staple');
    expect(code, output).toBe(0);
    expect(fs.readFileSync(out).equals(key)).toBe(true);
    const t1 = performance.now();
    expect((await decryptWithPassphrase(enc, 'correct horse battery staple')).equals(key)).toBe(true);
    const decMs = performance.now() - t1;
    console.info(`scrypt logN=${SCRYPT_LOG_N}: protect ${encMs.toFixed(0)} ms, unlock ${decMs.toFixed(0)} ms`);
  });

  it('a file protected by age -p is decrypted here given the passphrase', async () => {
    const src = tmp('p');
    const plain = crypto.randomBytes(70_000);
    fs.writeFileSync(src, plain);
    const enc = tmp('p.age');
    const { code, output } = await ageWithPty(['-p', '-o', enc, src], 'pässword with spaces');
    expect(code, output).toBe(0);
    expect(fs.readFileSync(enc).subarray(0, 40).toString()).toContain('-> scrypt');
    expect((await decryptWithPassphrase(fs.readFileSync(enc), 'pässword with spaces')).equals(plain)).toBe(true);
    expect(await codeOf(decryptWithPassphrase(fs.readFileSync(enc), 'pässword with space'))).toBe('wrong-passphrase');
  });
});

describe('failures', () => {
  const plain = crypto.randomBytes(3 * CHUNK + 1000); // chunks: full, full, full, 1000-byte final
  const good = encryptBufferToRecipient(plain, me.recipient);
  const hdr = headerLength(good);
  const payload = hdr + 16;
  const variant = (f: (b: Buffer) => Buffer | void): Buffer => {
    const b = Buffer.from(good);
    return f(b) ?? b;
  };

  it('round-trips in memory', () => {
    expect(decryptBuffer(good, me.identity).equals(plain)).toBe(true);
    expect(decryptBuffer(encryptBufferToRecipient(Buffer.alloc(0), me.recipient), me.identity).length).toBe(0);
  });

  it('a changed byte in the header MAC is reported as tampered', async () => {
    const bad = variant((b) => {
      const i = good.indexOf('\n--- ') + 5;
      b[i] = b[i] === 0x41 ? 0x42 : 0x41;
    });
    expect(await codeOf(() => decryptBuffer(bad, me.identity))).toBe('tampered');
    expect(await codeOf(decryptFile(bad, me.identity, () => undefined))).toBe('tampered');
  });

  it('no single flipped header byte ever decrypts, and each is refused with a header error', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < hdr; i++) {
      const code = await codeOf(() => decryptBuffer(variant((b) => void (b[i] = b[i]! ^ 0x01)), me.identity));
      seen.add(code);
    }
    expect(seen.has('ok')).toBe(false);
    expect([...seen].every((c) => ['not-age', 'tampered', 'no-matching-identity', 'truncated'].includes(c))).toBe(true);
  });

  it('a changed byte in the stanza body cannot be told from a foreign key: no-matching-identity', async () => {
    const bad = variant((b) => {
      const i = good.indexOf('\n', good.indexOf('-> X25519')) + 1;
      b[i] = b[i] === 0x41 ? 0x42 : 0x41;
    });
    expect(await codeOf(() => decryptBuffer(bad, me.identity))).toBe('no-matching-identity');
  });

  it('a changed byte inside a chunk, or in the payload nonce, is reported as tampered', async () => {
    for (const i of [payload + 5, payload + CT_CHUNK + 100, payload + 2 * CT_CHUNK - 1, hdr + 3]) {
      const bad = variant((b) => void (b[i] = b[i]! ^ 0x80));
      expect(await codeOf(() => decryptBuffer(bad, me.identity)), `offset ${i}`).toBe('tampered');
      expect(await codeOf(decryptFile(bad, me.identity, () => undefined)), `offset ${i}`).toBe('tampered');
    }
  });

  it('data appended after the final chunk is reported as tampered', async () => {
    const full = encryptBufferToRecipient(crypto.randomBytes(2 * CHUNK), me.recipient);
    expect(await codeOf(() => decryptBuffer(Buffer.concat([full, Buffer.from('x')]), me.identity))).toBe('tampered');
  });

  it('a file cut anywhere is reported as truncated, never returned as a shorter plaintext', async () => {
    const cuts = [0, 5, 30, hdr - 1, hdr, hdr + 15, payload, payload + 10, payload + CT_CHUNK, payload + CT_CHUNK + 1, payload + 3 * CT_CHUNK, good.length - 1];
    for (const n of cuts) {
      const bad = good.subarray(0, n);
      expect(await codeOf(() => decryptBuffer(bad, me.identity)), `cut at ${n}`).toBe('truncated');
      expect(await codeOf(decryptFile(Readable.from([bad]), me.identity, () => undefined)), `cut at ${n}`).toBe('truncated');
    }
  });

  it('a wrong identity is reported as no-matching-identity', async () => {
    expect(await codeOf(() => decryptBuffer(good, other.identity))).toBe('no-matching-identity');
    expect(await codeOf(decryptFile(good, [other.identity], () => undefined))).toBe('no-matching-identity');
  });

  it('a wrong passphrase is reported as wrong-passphrase, and key types are not mixed up', async () => {
    const enc = await encryptWithPassphrase(Buffer.from('repository key'), 'right', { logN: 10 });
    expect((await decryptWithPassphrase(enc, 'right')).toString()).toBe('repository key');
    expect(await codeOf(decryptWithPassphrase(enc, 'wrong'))).toBe('wrong-passphrase');
    expect(await codeOf(() => decryptBuffer(enc, me.identity))).toBe('no-matching-identity');
    expect(await codeOf(decryptWithPassphrase(good, 'right'))).toBe('no-matching-identity');
    expect(await codeOf(encryptWithPassphrase(Buffer.from('x'), ''))).toBe('invalid-key');
    const mac = enc.indexOf('\n--- ') + 5;
    const bad = Buffer.from(enc);
    bad[mac] = bad[mac] === 0x41 ? 0x42 : 0x41;
    expect(await codeOf(decryptWithPassphrase(bad, 'right'))).toBe('tampered');
  });

  it('data that is not an age file is reported as not-age after its first bytes', async () => {
    expect(await codeOf(() => decryptBuffer(crypto.randomBytes(1000), me.identity))).toBe('not-age');
    expect(await codeOf(() => decryptBuffer(Buffer.from('age-encryption.org/v2\n'), me.identity))).toBe('not-age');
    async function* endless() {
      yield Buffer.from('PK\x03\x04');
      for (;;) yield Buffer.alloc(1 << 20);
    }
    expect(await codeOf(decryptFile(endless(), me.identity, () => undefined))).toBe('not-age');
  });

  it('a failed encryption to a path leaves no partial file behind', async () => {
    const out = tmp('never.age');
    await expect(encryptFileToRecipient(tmp('missing-source'), me.recipient, out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.existsSync(out)).toBe(false);
    await expect(encryptFileToRecipient(Buffer.from('x'), 'age1bogus', out)).rejects.toMatchObject({ code: 'invalid-key' });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a failed decryption to a path leaves no plaintext file behind', async () => {
    const src = tmp('cut.age');
    fs.writeFileSync(src, good.subarray(0, good.length - 1));
    const out = tmp('cut.out');
    await expect(decryptFile(src, me.identity, out)).rejects.toMatchObject({ name: 'AgeError', code: 'truncated' });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('the streaming decryptor hands out authenticated chunks but throws at the end of a truncated file', async () => {
    const got: Buffer[] = [];
    const run = async () => {
      for await (const b of decryptStream(good.subarray(0, payload + 2 * CT_CHUNK), me.identity)) got.push(b);
    };
    await expect(run()).rejects.toMatchObject({ code: 'truncated' });
    expect(Buffer.concat(got).equals(plain.subarray(0, got.length * CHUNK))).toBe(true);
  });
});

describe('memory', () => {
  it('encrypts and decrypts a 200 MB file with process RSS growth under 64 MB', async () => {
    const size = 200 * 1024 * 1024;
    const src = tmp('big');
    const fd = fs.openSync(src, 'w');
    fs.ftruncateSync(fd, size); // sparse zeros, with random islands every ~10 MB
    for (let off = 0; off < size; off += 10 * 1024 * 1024 + 4097) fs.writeSync(fd, crypto.randomBytes(65_537), 0, 65_537, off);
    fs.closeSync(fd);
    const enc = tmp('big.age');
    const out = tmp('big.out');

    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      await encryptFileToRecipient(src, me.recipient, enc, { fsync: false });
      await decryptFile(enc, me.identity, out);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = (peak - base) / (1024 * 1024);
    console.info(`200 MB encrypt+decrypt: RSS ${(base / 2 ** 20).toFixed(0)} MB → peak ${(peak / 2 ** 20).toFixed(0)} MB`);
    expect(growth, `RSS grew by ${growth.toFixed(1)} MB`).toBeLessThan(64);
    const head = Buffer.alloc(4096);
    const efd = fs.openSync(enc, 'r');
    fs.readSync(efd, head, 0, head.length, 0);
    fs.closeSync(efd);
    expect(fs.statSync(enc).size).toBe(headerLength(head) + 16 + size + (size / CHUNK) * 16);
    expect(sha256(out)).toBe(sha256(src));
    for (const f of [src, enc, out]) fs.rmSync(f);
  }, 180_000);
});

describe('keys parsed once, ephemeral keys generated natively', () => {
  it('every file gets its own ephemeral share, and each decrypts on both backends', () => {
    const shares = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const plain = crypto.randomBytes(i * 37);
      const enc = encryptBufferToRecipient(plain, me.recipient);
      shares.add(enc.toString('latin1').split('\n')[1]!.split(' ')[2]!);
      expect(decryptBuffer(enc, me.identity).equals(plain)).toBe(true);
      forceJsCrypto(true);
      try {
        expect(decryptBuffer(enc, me.identity).equals(plain)).toBe(true);
      } finally {
        forceJsCrypto(false);
      }
    }
    expect(shares.size).toBe(50);
  });

  for (const backend of ['node', 'js'] as const) {
    it(`a low-order (all-zero) ephemeral share is refused as tampered (${backend})`, async () => {
      const good = encryptBufferToRecipient(Buffer.from('x'), me.recipient);
      const lines = good.toString('latin1').split('\n');
      const args = lines[1]!.split(' ');
      args[2] = Buffer.alloc(32).toString('base64').replace(/=+$/, '');
      lines[1] = args.join(' ');
      const bad = Buffer.from(lines.join('\n'), 'latin1');
      forceJsCrypto(backend === 'js');
      try {
        expect(await codeOf(() => decryptBuffer(bad, me.identity))).toBe('tampered');
      } finally {
        forceJsCrypto(false);
      }
    });
  }

  it("a key protected here (native scrypt) opens with age-encryption's own decrypter, and its stanza is age's", async () => {
    const { Decrypter } = await import('age-encryption');
    const plain = Buffer.from(generateIdentity().identity + '\n');
    const enc = await encryptWithPassphrase(plain, 'correct horse battery staple', { logN: 12 });
    const header = enc.toString('latin1').split('\n');
    expect(header[0]).toBe('age-encryption.org/v1');
    expect(header[1]).toMatch(/^-> scrypt [A-Za-z0-9+/]{22} 12$/);
    expect(passphraseWorkFactor(enc)).toBe(12);
    const d = new Decrypter();
    d.addPassphrase('correct horse battery staple');
    expect(Buffer.from(await d.decrypt(enc)).equals(plain)).toBe(true);
    expect((await decryptWithPassphrase(enc, 'correct horse battery staple')).equals(plain)).toBe(true);
    expect(await codeOf(decryptWithPassphrase(enc, 'correct horse battery stapl'))).toBe('wrong-passphrase');
  });
});
