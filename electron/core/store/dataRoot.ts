// Where Lifeline keeps its data, and the layout inside (DESIGN.md "The data root").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDir } from './atomic.js';

export interface DataRootLayout {
  root: string;
  catalog: string;
  blobs: string;
  segments: string;
  models: string;
  sums: string;
}

export function layoutOf(root: string): DataRootLayout {
  return {
    root,
    catalog: path.join(root, 'catalog.sqlite'),
    blobs: path.join(root, 'blobs', 'sha256'),
    segments: path.join(root, 'segments'),
    models: path.join(root, 'models'),
    sums: path.join(root, 'SHA256SUMS'),
  };
}

/**
 * The data root: an explicit folder (--data, Electron's userData), else $LIFELINE_HOME, else
 * $XDG_DATA_HOME/lifeline or ~/.local/share/lifeline. Never a temporary folder by default.
 */
export function resolveDataRoot(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return path.resolve(explicit);
  if (env.LIFELINE_HOME) return path.resolve(env.LIFELINE_HOME);
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'lifeline');
}

const TEMP_PREFIXES = ['/tmp', '/var/tmp', '/dev/shm', '/run/user'];

/**
 * A reason to warn when `dir` lives where a reboot may empty it: under the OS temp folder,
 * /tmp, /var/tmp, /dev/shm, or on a tmpfs/ramfs mount. null when it looks durable.
 */
export function temporaryLocationWarning(dir: string): string | null {
  const abs = path.resolve(dir);
  const prefixes = [...new Set([os.tmpdir(), ...TEMP_PREFIXES])];
  const under = prefixes.find((p) => abs === p || abs.startsWith(p.endsWith('/') ? p : p + '/'));
  if (under) return `The data root ${abs} is under ${under}, which a reboot may empty. Use --data or LIFELINE_HOME to keep knowledge bases on a persistent disk.`;
  const fsType = filesystemTypeOf(abs);
  if (fsType === 'tmpfs' || fsType === 'ramfs') return `The data root ${abs} is on a ${fsType} filesystem held in memory: a power cut erases it.`;
  return null;
}

/** The filesystem type of the longest mount point containing `p`, from /proc/mounts. */
export function filesystemTypeOf(p: string): string | null {
  let mounts: string;
  try {
    mounts = fs.readFileSync('/proc/mounts', 'utf8');
  } catch {
    return null;
  }
  let best: { mp: string; type: string } | null = null;
  for (const line of mounts.split('\n')) {
    const [, mpRaw, type] = line.split(' ');
    if (!mpRaw || !type) continue;
    const mp = mpRaw.replace(/\\040/g, ' ');
    if ((p === mp || p.startsWith(mp.endsWith('/') ? mp : mp + '/')) && (!best || mp.length > best.mp.length)) best = { mp, type };
  }
  return best?.type ?? null;
}

export function prepareDataRoot(root: string): DataRootLayout {
  const layout = layoutOf(root);
  try {
    ensureDir(root);
    ensureDir(layout.blobs);
    ensureDir(layout.segments);
    ensureDir(layout.models);
    fs.accessSync(root, fs.constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot use data root ${root}: ${e.message}`);
  }
  return layout;
}
