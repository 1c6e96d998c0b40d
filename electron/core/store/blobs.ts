// Content-addressed store of original documents: blobs/sha256/ab/<hash>, written once.
import fs from 'node:fs';
import path from 'node:path';
import { writeContentAddressed } from './atomic.js';
import { sha256 } from '../util/hash.js';

export class BlobStore {
  constructor(readonly dir: string) {}

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a sha256: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return fs.existsSync(this.pathOf(hash));
  }

  /** Stores the bytes (if not already there) and returns their sha256. */
  put(data: Uint8Array): string {
    const hash = sha256(data);
    writeContentAddressed(this.pathOf(hash), data, hash);
    return hash;
  }

  read(hash: string): Buffer {
    return fs.readFileSync(this.pathOf(hash));
  }
}
