// The Electron shell's security rules as pure functions: which URLs the console may load or
// reach, the Content-Security-Policy, the window's webPreferences, and how an `app://` URL maps
// to a file of the built renderer. Kept free of `electron` imports so unit tests (and the
// headless server, for the CSP) can use them in plain Node. The air gap is enforced here, in
// code: anything that is not the app itself or a loopback address is refused.
import path from 'node:path';

/** The privileged custom scheme that serves the built renderer (see main.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'lifeline';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The console's Content-Security-Policy: only its own scripts, styles, fonts and images (plus
 * data: images), no plugins, no <base>, no form posts, never framed by anyone.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True for a URL of the app origin (`app://lifeline/...`). Compared by scheme and host, not by
 * `URL.origin`, because Node's URL parser gives custom schemes the opaque origin "null".
 * Credentials (`app://lifeline@evil/`) or a port make it a different origin.
 */
export function isAppUrl(url: string): boolean {
  const u = parseUrl(url);
  return (
    u !== null &&
    u.protocol === `${APP_SCHEME}:` &&
    u.hostname === APP_HOST &&
    u.port === '' &&
    u.username === '' &&
    u.password === ''
  );
}

/** 127.0.0.0/8, `localhost` and `[::1]` — addresses that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  // The WHATWG parser has already normalised IPv4 forms such as `127.1` or `0x7f.0.0.1`.
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const octets = m.slice(1).map(Number);
  return octets[0] === 127 && octets.every((o) => o <= 255);
}

const LOOPBACK_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:']);

/**
 * May the console's session make this request? The app origin, DevTools, `data:` URLs and
 * http(s)/ws(s) to a loopback host; nothing else (no LAN address, no internet, no `file:`).
 */
export function isAllowedRequestUrl(url: string): boolean {
  const u = parseUrl(url);
  if (u === null) return false;
  if (u.protocol === 'devtools:' || u.protocol === 'data:') return true;
  if (u.protocol === `${APP_SCHEME}:`) return isAppUrl(url);
  if (LOOPBACK_PROTOCOLS.has(u.protocol)) return isLoopbackHost(u.hostname) && u.username === '' && u.password === '';
  return false;
}

/**
 * What may be logged about a blocked request: its scheme and host only. Paths and query
 * strings are left out on purpose — they may carry tokens or patient identifiers.
 */
export function describeBlockedRequest(url: string): string {
  const u = parseUrl(url);
  if (u === null) return '(unparseable URL)';
  if (u.host === '') return u.protocol;
  return `${u.protocol}//${u.host}`;
}

/** The only webPreferences a Lifeline window is ever created with. */
export interface SecureWebPreferences {
  readonly preload: string;
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly experimentalFeatures: false;
  readonly webviewTag: false;
  readonly spellcheck: false;
  readonly navigateOnDragDrop: false;
  readonly safeDialogs: true;
}

export function secureWebPreferences(preloadPath: string): SecureWebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
    // A file dropped on the window must not replace the console with that file.
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

/**
 * Response headers with the console's CSP added. A CSP already present is kept: two policies
 * both apply, so adding ours can only make a page stricter.
 */
export function withContentSecurityPolicy(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = { ...(headers ?? {}) };
  const existing = Object.keys(out).find((k) => k.toLowerCase() === 'content-security-policy');
  if (existing === undefined) out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  else out[existing] = [...(out[existing] ?? []), CONTENT_SECURITY_POLICY];
  return out;
}

/**
 * The file an `app://lifeline/...` URL names inside the renderer folder, or null when the URL
 * is not ours or would leave that folder (`..` in any encoding, `%2f`, backslashes, NUL).
 * Lexical only: the caller must still resolve symlinks (realpath) and check again.
 */
export function rendererFileForUrl(rendererRoot: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  const u = parseUrl(url);
  if (u === null) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return null; // malformed percent-encoding
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  const segments = pathname.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const relative = segments.length === 0 ? 'index.html' : segments.join('/');
  const root = path.resolve(rendererRoot);
  const file = path.resolve(root, relative);
  return isInside(root, file) ? file : null;
}

/** True when `candidate` is `root` itself or below it (both absolute, already resolved). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}
