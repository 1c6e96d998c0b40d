// The backup repository: a folder on a USB drive, a NAS mount or a second disk (README
// "Backup repository format"). Like restic's: content-addressed encrypted blobs written once,
// then an encrypted snapshot manifest, each by atomic rename, so a crash or a pulled drive at
// any moment leaves a readable repository.
//
//   lifeline-repo.json            plaintext: format, id, the repository's age recipient
//   keys/repo-key.age             the repository's age identity, encrypted with the passphrase
//                                 (age scrypt: one scrypt per unlock, not one per file)
//   data/<ab>/<name>.age          one file's content, age-encrypted to the repository recipient;
//                                 <name> = HMAC-SHA256(name key, sha256(content)), so the drive
//                                 alone does not reveal which content it holds
//   snapshots/<time>-<id>.age     the snapshot manifest (JSON), age-encrypted, written last
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../api/handlers.js';
import { describeErrno, ensureDir, fsyncDir, writeFileAtomic } from '../store/atomic.js';
import * as age from './age.js';

export const REPO_MARKER = 'lifeline-repo.json';
const KEY_FILE = 'keys/repo-key.age';

export interface RepoInfo {
  format: 'lifeline-backup-repository';
  version: 1;
  id: string;
  created: string;
  /** The age recipient blobs and manifests are encrypted to (public; the identity is in keys/). */
  recipient: string;
}

export type FileClass = 'catalog' | 'documents' | 'indexes' | 'models' | 'logs';

export interface ManifestFile {
  /** Relative to the data root, forward slashes. */
  path: string;
  sha256: string;
  size: number;
  /** Blob name in data/ (HMAC of the sha256). */
  blob: string;
  class: FileClass;
}

export interface SnapshotManifest {
  format: 'lifeline-snapshot';
  version: 1;
  id: string;
  time: string;
  host: string;
  lifelineVersion: string;
  knowledgeBases: { name: string; documents: number; chunks: number; embedder: string }[];
  files: ManifestFile[];
  /** The files in `sha256sum` format, so a hand restore can be checked with `sha256sum -c`. */
  sha256sums: string;
}

export class Repository {
  private constructor(
    readonly dir: string,
    readonly info: RepoInfo,
    private readonly identity: string,
    private readonly nameKey: Buffer,
  ) {}

  static isRepository(dir: string): boolean {
    return fs.existsSync(path.join(dir, REPO_MARKER));
  }

  /** Creates a repository in an empty (or new) folder. */
  static async init(dir: string, passphrase: string): Promise<Repository> {
    checkPassphrase(passphrase);
    const abs = path.resolve(dir);
    if (Repository.isRepository(abs)) throw new UserError('repo-exists', `${abs} already holds a Lifeline backup repository`);
    if (fs.existsSync(abs) && fs.readdirSync(abs).some((n) => n !== 'lost+found')) {
      throw new UserError('repo-folder-not-empty', `${abs} is not empty; choose an empty folder (or a new one) for the repository`);
    }
    const { identity, recipient } = age.generateIdentity();
    const info: RepoInfo = { format: 'lifeline-backup-repository', version: 1, id: randomBytes(8).toString('hex'), created: new Date().toISOString(), recipient };
    try {
      ensureDir(path.join(abs, 'data'));
      ensureDir(path.join(abs, 'snapshots'));
      ensureDir(path.join(abs, 'keys'));
      const keyText = `# Lifeline backup repository ${info.id}: the age identity that decrypts data/ and snapshots/\n${identity}\n`;
      writeFileAtomic(path.join(abs, KEY_FILE), await age.encryptWithPassphrase(Buffer.from(keyText), passphrase));
      // The marker last: a folder is a repository only once its key is safely written.
      writeFileAtomic(path.join(abs, REPO_MARKER), JSON.stringify(info, null, 2) + '\n');
    } catch (err) {
      throw driveError(err, abs);
    }
    return new Repository(abs, info, identity, nameKeyOf(identity));
  }

  /** Opens a repository with its passphrase (one scrypt). A wrong passphrase is a UserError. */
  static async open(dir: string, passphrase: string): Promise<Repository> {
    const abs = path.resolve(dir);
    let info: RepoInfo;
    try {
      info = JSON.parse(fs.readFileSync(path.join(abs, REPO_MARKER), 'utf8')) as RepoInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('no-repo', `${abs} is not a Lifeline backup repository (no ${REPO_MARKER})`);
      throw driveError(err, abs);
    }
    if (info.format !== 'lifeline-backup-repository' || info.version !== 1) throw new UserError('bad-repo', `${abs}: unsupported repository format ${info.format} ${info.version}`);
    let keyText: string;
    try {
      keyText = (await age.decryptWithPassphrase(fs.readFileSync(path.join(abs, KEY_FILE)), passphrase)).toString('utf8');
    } catch (err) {
      if (err instanceof age.AgeError && err.code === 'wrong-passphrase') throw new UserError('wrong-passphrase', `wrong passphrase for the repository in ${abs}`);
      if ((err as NodeJS.ErrnoException).code) throw driveError(err, abs);
      throw new UserError('bad-repo', `${abs}/${KEY_FILE} cannot be read: ${(err as Error).message}`);
    }
    const identity = keyText.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'));
    if (!identity) throw new UserError('bad-repo', `${abs}/${KEY_FILE} holds no age identity`);
    return new Repository(abs, info, identity.trim(), nameKeyOf(identity.trim()));
  }

  /** The blob name for a content hash: keyed, so it does not reveal the hash. */
  blobName(sha256: string): string {
    return createHmac('sha256', this.nameKey).update(sha256).digest('hex');
  }

  blobPath(blob: string): string {
    return path.join(this.dir, 'data', blob.slice(0, 2), `${blob}.age`);
  }

  hasBlob(blob: string): boolean {
    return fs.existsSync(this.blobPath(blob));
  }

  /**
   * Encrypts a file into data/ (temp → rename). Durability comes from `syncAll()`, which the
   * backup calls once before it writes the manifest: one filesystem sync instead of two fsyncs
   * per blob, and still no manifest that names a blob the disk might not have.
   */
  async putFile(src: string, blob: string): Promise<number> {
    const dest = this.blobPath(blob);
    const tmp = `${path.dirname(dest)}/.${blob}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    try {
      ensureDir(path.dirname(dest));
      let written: number;
      if (fs.statSync(src).size <= SMALL_FILE) {
        // Most files are small (documents): one read, one write, no stream machinery per file.
        const sealed = age.encryptBufferToRecipient(fs.readFileSync(src), this.info.recipient);
        writeWhole(tmp, sealed, !canSyncfs());
        written = sealed.length;
      } else written = (await age.encryptFileToRecipient(src, this.info.recipient, tmp, { fsync: !canSyncfs() })).ciphertextBytes;
      fs.renameSync(tmp, dest);
      if (!canSyncfs()) fsyncDir(path.dirname(dest));
      this.unsynced = true;
      return written;
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw driveError(err, this.dir);
    }
  }

  /**
   * Decrypts a blob into `dest` (via a temp file), hashing it on the way. The caller makes the
   * restored files durable with one `syncFilesystem()` before it relies on them.
   */
  async getFile(blob: string, sha256: string, dest: string): Promise<void> {
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    try {
      ensureDir(path.dirname(dest));
      const h = createHash('sha256');
      const fh = await fs.promises.open(tmp, 'w', 0o644);
      try {
        await age.decryptFile(this.blobPath(blob), this.identity, async (chunk: Buffer) => {
          h.update(chunk);
          await fh.write(chunk);
        });
      } finally {
        await fh.close();
      }
      if (h.digest('hex') !== sha256) throw new BlobDamagedError(blob, `its content does not match the recorded sha256`);
      if (!canSyncfs()) {
        // No filesystem-wide flush available: make each restored file durable on its own.
        const fd = fs.openSync(tmp, 'r');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, dest);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      if (err instanceof age.AgeError) throw new BlobDamagedError(blob, `cannot be decrypted (${err.code}): ${err.message}`);
      if (err instanceof BlobDamagedError) throw err;
      throw driveError(err, this.dir);
    }
  }

  /** Decrypts a blob and hashes it without keeping it (verify). */
  async checkBlob(blob: string, sha256: string): Promise<void> {
    const tmp = path.join(os.tmpdir(), `lifeline-verify-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await this.getFile(blob, sha256, tmp);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  private unsynced = false;

  /** Makes every blob written so far durable (before the manifest that names them). */
  syncAll(): void {
    if (!this.unsynced) return;
    syncFilesystem(this.dir);
    this.unsynced = false;
  }

  async writeSnapshot(manifest: SnapshotManifest): Promise<string> {
    this.syncAll();
    const name = `${manifest.time.replace(/[:.]/g, '-')}-${manifest.id}.age`;
    const sealed = age.encryptBufferToRecipient(Buffer.from(JSON.stringify(manifest)), this.info.recipient);
    try {
      writeFileAtomic(path.join(this.dir, 'snapshots', name), sealed);
    } catch (err) {
      throw driveError(err, this.dir);
    }
    return name;
  }

  /** Snapshot files, oldest first. */
  snapshotFiles(): string[] {
    try {
      return fs
        .readdirSync(path.join(this.dir, 'snapshots'))
        .filter((n) => n.endsWith('.age') && !n.startsWith('.'))
        .sort();
    } catch (err) {
      throw driveError(err, this.dir);
    }
  }

  readSnapshot(file: string): SnapshotManifest {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(path.join(this.dir, 'snapshots', file));
    } catch (err) {
      throw driveError(err, this.dir);
    }
    try {
      const m = JSON.parse(age.decryptBuffer(raw, this.identity).toString('utf8')) as SnapshotManifest;
      checkManifest(m);
      return m;
    } catch (err) {
      throw new UserError('snapshot-damaged', `snapshot ${file} in ${this.dir} is damaged: ${(err as Error).message}`);
    }
  }

  /** Finds a snapshot by id (or file name); the newest when id is absent. */
  findSnapshot(id?: string): { file: string; manifest: SnapshotManifest } {
    const files = this.snapshotFiles();
    if (files.length === 0) throw new UserError('no-snapshots', `the repository in ${this.dir} has no snapshots yet`);
    const file = id ? files.find((f) => f === id || f.endsWith(`-${id}.age`) || f.replace(/\.age$/, '') === id) : files[files.length - 1];
    if (!file) throw new UserError('no-such-snapshot', `no snapshot ${id} in ${this.dir}; see lifeline backups list`);
    return { file, manifest: this.readSnapshot(file) };
  }

  removeSnapshot(file: string): void {
    fs.rmSync(path.join(this.dir, 'snapshots', file), { force: true });
    fsyncDir(path.join(this.dir, 'snapshots'));
  }

  /** Every blob file in data/ (names without .age). */
  allBlobs(): string[] {
    const out: string[] = [];
    const data = path.join(this.dir, 'data');
    for (const d of fs.existsSync(data) ? fs.readdirSync(data) : []) {
      for (const f of fs.readdirSync(path.join(data, d))) if (f.endsWith('.age') && !f.startsWith('.')) out.push(f.slice(0, -4));
    }
    return out;
  }

  removeBlob(blob: string): void {
    fs.rmSync(this.blobPath(blob), { force: true });
  }
}

/**
 * A manifest is trusted only in its exact shape: anyone holding the drive can write one (the
 * recipient is public), so an id or path that could leave the data root is refused.
 */
function checkManifest(m: SnapshotManifest): void {
  const str = (v: unknown) => typeof v === 'string';
  if (!m || m.format !== 'lifeline-snapshot') throw new Error('not a Lifeline snapshot manifest');
  if (!str(m.id) || !/^[0-9a-f]{4,32}$/.test(m.id)) throw new Error('the snapshot id is not valid');
  if (!Array.isArray(m.files) || !Array.isArray(m.knowledgeBases) || !str(m.time) || !str(m.sha256sums)) throw new Error('the manifest is missing its file list');
  for (const f of m.files) {
    const ok =
      f !== null &&
      typeof f === 'object' &&
      str(f.path) &&
      /^[0-9a-f]{64}$/.test(String(f.sha256)) &&
      /^[0-9a-f]{64}$/.test(String(f.blob)) &&
      Number.isSafeInteger(f.size) &&
      f.size >= 0 &&
      !path.isAbsolute(f.path) &&
      !f.path.split(/[\\/]/).includes('..') &&
      !/[\x00-\x1f]/.test(f.path);
    if (!ok) throw new Error(`the manifest lists an invalid file entry (${JSON.stringify(f).slice(0, 80)})`);
  }
}

export class BlobDamagedError extends Error {
  constructor(
    readonly blob: string,
    reason: string,
  ) {
    super(`blob ${blob.slice(0, 16)}… ${reason}`);
    this.name = 'BlobDamagedError';
  }
}

/** Errors of the drive itself, in the operator's words (full, pulled out, read-only, failing). */
export function driveError(err: unknown, where: string): Error {
  if (err instanceof UserError || err instanceof BlobDamagedError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOSPC':
      return new UserError('disk-full', `${where}: the disk is full (ENOSPC). Nothing was changed; free space or use a bigger drive`);
    case 'EIO':
    case 'ENXIO':
    case 'ENODEV':
      return new UserError('drive-gone', `${where}: the drive stopped answering (${e.code}) — was it pulled out? Plug it back in and try again`);
    case 'ENOENT':
      return new UserError('drive-gone', `${where}: a file disappeared while it was being read (${e.path ?? ''}) — was the drive pulled out?`);
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return new UserError('drive-readonly', `${where}: ${describeErrno(e)}`);
    default:
      return e instanceof Error ? e : new Error(String(err));
  }
}

/** Files up to this size are encrypted in memory (one read, one write). */
const SMALL_FILE = 4 << 20;

function writeWhole(file: string, data: Uint8Array, fsync: boolean): void {
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    let off = 0;
    while (off < data.byteLength) off += fs.writeSync(fd, data, off, data.byteLength - off);
    if (fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

let syncfsAvailable: boolean | null = null;

/** `sync -f` (coreutils) flushes one whole filesystem: syncfs(2). */
function canSyncfs(): boolean {
  if (syncfsAvailable === null) syncfsAvailable = spawnSync('sync', ['-f', os.tmpdir()]).status === 0;
  return syncfsAvailable;
}

/** Flushes the filesystem holding `dir` (all files written there become durable). */
export function syncFilesystem(dir: string): void {
  if (canSyncfs()) {
    const r = spawnSync('sync', ['-f', dir]);
    if (r.status !== 0) throw new UserError('drive-gone', `${dir}: could not flush the drive (sync -f failed: ${String(r.stderr).trim()}) — was it pulled out?`);
    return;
  }
  fsyncDir(dir);
}

function checkPassphrase(p: unknown): asserts p is string {
  if (typeof p !== 'string' || p.length < 8) throw new UserError('weak-passphrase', 'the passphrase must have at least 8 characters');
}

function nameKeyOf(identity: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(identity), Buffer.alloc(0), Buffer.from('lifeline blob names v1'), 32));
}

export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
