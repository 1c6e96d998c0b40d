// The air gap, shown rather than assumed: a whole Lifeline cycle runs inside a fresh network
// namespace that has nothing but loopback (`unshare -n`, lo brought up, no other link, no
// route), with the real CLI — serve (+ /healthz, /readyz and /api/ask with the token), ingest a
// folder, ask, verify --deep, backup into an encrypted repository, restore into an empty folder,
// ask the restored root — under `strace -f`, which records every connect(), sendto(), sendmsg()
// and sendmmsg() of every process and thread. Every AF_INET/AF_INET6 destination must be
// 127.0.0.0/8 or ::1; the other families may only be AF_UNIX (local sockets), AF_NETLINK (the
// kernel itself) and AF_UNSPEC (a disconnect). A control run proves the tracer and the parser
// do see a non-loopback attempt (to 203.0.113.7, TEST-NET-3, in the namespace without a
// route, so it fails with ENETUNREACH and no packet can leave). CLI and server only; the
// console in Chromium is covered by the e2e suites.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir, writeFiles } from '../helpers/env.js';

/** Why the namespace cycle cannot run here, or null when it can. */
function namespaceUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root: unshare -n needs CAP_SYS_ADMIN (run the suite as root)';
  for (const tool of ['unshare', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (util-linux / iproute2)`;
  }
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare -n does not work here: ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return null;
}

function straceUnavailable(): string | null {
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) return 'strace is not installed (apt-get install strace)';
  const probe = spawnSync('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `strace cannot trace here (ptrace not permitted?): ${probe.stderr.trim()}`;
  return null;
}

export interface SocketCall {
  pid: string;
  call: string;
  family: string;
  address: string | null;
  result: string;
  line: string;
}

/** Every sockaddr in connect/sendto/sendmsg/sendmmsg lines of an `strace -f -o` log. */
export function parseStrace(text: string): SocketCall[] {
  const out: SocketCall[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(connect|sendto|sendmsg|sendmmsg)\((.*)$/.exec(line);
    if (!m) continue;
    const [, pid, call, rest] = m as unknown as [string, string, string, string];
    const result = /\)\s+=\s+(.*)$/.exec(rest)?.[1] ?? (rest.includes('<unfinished') ? 'unfinished' : '?');
    const pieces = rest.split('sa_family=').slice(1);
    for (const piece of pieces) {
      const family = /^(AF_\w+)/.exec(piece)?.[1] ?? piece.slice(0, 12);
      let address: string | null = null;
      if (family === 'AF_INET') address = /sin_addr=inet_addr\("([^"]+)"\)/.exec(piece)?.[1] ?? null;
      else if (family === 'AF_INET6') address = /inet_pton\(AF_INET6,\s*"([^"]+)"/.exec(piece)?.[1] ?? null;
      else if (family === 'AF_UNIX' || family === 'AF_LOCAL') address = /sun_path=(@?"[^"]*")/.exec(piece)?.[1] ?? null;
      out.push({ pid, call, family, address, result, line });
    }
  }
  return out;
}

/**
 * pid → the program it runs, from the execve lines of the same log. A thread (or a fork that has
 * not exec'd) is not listed; its calls are attributed through the pid of its first syscall
 * only when it exec'd.
 */
export function programsByPid(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(\d+)\s+execve\("([^"]+)"[^\n]*= 0$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** True for a destination that never leaves this machine's loopback. */
export function isLoopbackDestination(c: Pick<SocketCall, 'family' | 'address'>): boolean {
  if (c.family === 'AF_INET') return c.address !== null && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(c.address);
  if (c.family === 'AF_INET6') return c.address !== null && (c.address === '::1' || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(c.address));
  return false;
}

/** Families that are not network traffic at all. */
const LOCAL_FAMILIES = new Set(['AF_UNIX', 'AF_LOCAL', 'AF_NETLINK', 'AF_UNSPEC']);

const nsReason = namespaceUnavailable();
const straceReason = nsReason ?? straceUnavailable();

const t = tempDir('lifeline-airgap-');
const OUT = path.join(t.dir, 'out');
const QUESTION = '备用发电机的燃油可以维持多少小时？';
let ran: { status: number | null; ms: number; stderr: string } | null = null;
const read = (name: string) => fs.readFileSync(path.join(OUT, name), 'utf8');
const readJson = (name: string) => JSON.parse(read(name));

const OUTER = String.raw`#!/bin/sh
# Runs as PID 1's child in a new network namespace (unshare -n): only lo exists, and it is down.
set -u
ip link set lo up
ip -o link show > "$OUT/ns-links.txt"
ip -o addr show > "$OUT/ns-addrs.txt"
ip -4 route show table all > "$OUT/ns-routes4.txt"
ip -6 route show table all > "$OUT/ns-routes6.txt"
TRACE="strace -f --seccomp-bpf -qq -s 256 -e trace=connect,sendto,sendmsg,sendmmsg,execve -e signal=none"
if [ "$TRACER" = strace ]; then
  # The control: a non-loopback connect the tracer must see (no route: ENETUNREACH, nothing leaves).
  $TRACE -o "$OUT/control.trace" "$NODE" -e '
    const s = require("node:net").connect({ host: "203.0.113.7", port: 443 });
    s.on("error", (e) => { console.log(e.code); process.exit(0); });
    s.on("connect", () => { console.log("CONNECTED"); process.exit(1); });
    setTimeout(() => { console.log("TIMEOUT"); process.exit(1); }, 5000);' > "$OUT/control.out" 2>&1
  $TRACE -o "$OUT/cycle.trace" sh "$OUT/cycle.sh" > "$OUT/cycle.log" 2>&1
else
  sh "$OUT/cycle.sh" > "$OUT/cycle.log" 2>&1
fi
echo $? > "$OUT/cycle.rc"
`;

const CYCLE = String.raw`#!/bin/sh
# The cycle itself: the real CLI on a fresh data root, every step's output kept in $OUT.
set -u
L="$NODE $REPO/scripts/lifeline.mjs"
export LIFELINE_MEDIA_ROOTS="$MEDIA"
unset LIFELINE_HOME
step() { name=$1; shift; "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"; echo "$name $?" >> "$OUT/steps.txt"; }
# GET/POST on loopback with node's fetch (http_node) or curl (http, when present).
http_node() { # http_node NAME URL [TOKEN BODY]
  "$NODE" -e '
    const [name, url, token, body] = process.argv.slice(1);
    const init = token ? { method: "POST", headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" }, body } : {};
    fetch(url, init).then(async (r) => {
      require("node:fs").writeFileSync(process.env.OUT + "/" + name + ".body", await r.text());
      require("node:fs").writeFileSync(process.env.OUT + "/" + name + ".code", String(r.status));
    });' "$@"
  echo "$1 $(cat "$OUT/$1.code")" >> "$OUT/http.txt"
}
http() { # http NAME URL [TOKEN BODY]
  if ! command -v curl > /dev/null; then http_node "$@"; return; fi
  if [ $# -ge 4 ]; then
    curl -sS -o "$OUT/$1.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $3" -H 'Content-Type: application/json' --data-binary "$4" "$2" > "$OUT/$1.code"
  else
    curl -sS -o "$OUT/$1.body" -w '%{http_code}' "$2" > "$OUT/$1.code"
  fi
  echo "$1 $(cat "$OUT/$1.code")" >> "$OUT/http.txt"
}

# 1. serve, in the background; /healthz, /readyz (until ready), /api/ask with the token.
$L serve --json --data "$D1" > "$OUT/serve.out" 2> "$OUT/serve.err" &
SP=$!
i=0; while [ ! -s "$OUT/serve.out" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
PORT=$("$NODE" -e 'console.log(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8").split("\n")[0]).port)' "$OUT/serve.out")
TOKEN=$("$NODE" -e 'console.log(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8").split("\n")[0]).token)' "$OUT/serve.out")
http healthz "http://127.0.0.1:$PORT/healthz"
i=0; while [ $i -lt 300 ]; do
  http readyz "http://127.0.0.1:$PORT/readyz"
  grep -q '"status":"ready"' "$OUT/readyz.body" && break
  sleep 0.1; i=$((i+1))
done
http api-ask "http://127.0.0.1:$PORT/api/ask" "$TOKEN" '{"question":"如何请假？"}'
http_node api-ask-node "http://127.0.0.1:$PORT/api/ask" "$TOKEN" '{"question":"如何请假？"}'
kill -TERM $SP; wait $SP; echo "serve $?" >> "$OUT/steps.txt"

# 2. ingest a folder, ask, verify --deep, backup, restore into an empty folder, ask there.
step kb-create $L kb create airgap --data "$D1" --json
step ingest $L ingest "$DOCS" --kb airgap --data "$D1" --json
step ask $L ask "$QUESTION" --kb airgap --data "$D1" --json
step verify $L verify --deep --data "$D1" --json
step backup $L backup --repo "$REPODIR" --passphrase-file "$PASS" --data "$D1" --json
step restore $L restore --repo "$REPODIR" --passphrase-file "$PASS" --data "$D2" --json
step ask-restored $L ask "$QUESTION" --kb airgap --data "$D2" --json
step verify-restored $L verify --deep --data "$D2" --json
`;

describe.skipIf(nsReason !== null)(`the air gap: a whole cycle in a network namespace with only loopback${nsReason ? ` (skipped: ${nsReason})` : ''}`, () => {
  beforeAll(() => {
    fs.mkdirSync(OUT);
    fs.mkdirSync(path.join(t.dir, 'media'));
    fs.mkdirSync(path.join(t.dir, 'restored')); // empty: restore makes it the restored root
    writeFiles(path.join(t.dir, 'docs'), {
      '停电预案.md': '# 停电预案\n\n## 发电机\n\n备用发电机的燃油储备可以维持72小时，燃油由总务处每月检查一次。\n\n## 值班\n\n停电期间信息科值班电话为分机6000。\n',
      'wards/visiting.md': '# Visiting\n\nVisiting hours on the cardiology ward are 14:00 to 19:00.\n',
      'notes.txt': 'The air-gap test document: nothing here needs a network.\n',
    });
    fs.writeFileSync(path.join(t.dir, 'pass.txt'), 'air-gap-passphrase-31337\n', { mode: 0o600 });
    fs.writeFileSync(path.join(OUT, 'outer.sh'), OUTER);
    fs.writeFileSync(path.join(OUT, 'cycle.sh'), CYCLE);
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: t.dir,
      OUT,
      NODE: process.execPath,
      REPO: REPO_ROOT,
      D1: path.join(t.dir, 'data'),
      D2: path.join(t.dir, 'restored'),
      DOCS: path.join(t.dir, 'docs'),
      REPODIR: path.join(t.dir, 'usb', 'repo'),
      PASS: path.join(t.dir, 'pass.txt'),
      MEDIA: path.join(t.dir, 'media'),
      QUESTION,
      TRACER: straceReason === null ? 'strace' : 'none',
    };
    const started = Date.now();
    const r = spawnSync('unshare', ['-n', 'sh', path.join(OUT, 'outer.sh')], { env, encoding: 'utf8', timeout: 110_000 });
    ran = { status: r.status, ms: Date.now() - started, stderr: r.stderr };
    fs.writeFileSync(path.join(OUT, 'runtime-ms.txt'), String(ran.ms));
  }, 120_000);
  // LIFELINE_KEEP_AIRGAP=1 keeps the traces and every step's output for a look afterwards.
  afterAll(() => (process.env.LIFELINE_KEEP_AIRGAP ? console.log(`air-gap output kept in ${OUT}`) : t.cleanup()));

  it('ran inside a namespace with nothing but loopback: one link (lo), no route off it, only 127.0.0.1 and ::1', () => {
    expect(ran?.status, ran?.stderr).toBe(0);
    const links = read('ns-links.txt').trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP/);
    const addrs = read('ns-addrs.txt').trim().split('\n').map((l) => l.split(/\s+/).slice(1, 4).join(' '));
    expect(addrs.sort()).toEqual(['lo inet 127.0.0.1/8', 'lo inet6 ::1/128']);
    const routes = [...read('ns-routes4.txt').trim().split('\n'), ...read('ns-routes6.txt').trim().split('\n')].filter(Boolean);
    expect(routes.some((r) => r.startsWith('default'))).toBe(false);
    for (const r of routes) expect(r, r).toMatch(/\bdev lo\b/);
  });

  it('serve answered /healthz, /readyz and /api/ask (with the token) over loopback, then stopped cleanly', () => {
    expect(read('cycle.rc').trim()).toBe('0');
    expect(read('healthz.code')).toBe('200');
    expect(readJson('healthz.body')).toEqual({ status: 'ok' });
    expect(readJson('readyz.body').status).toBe('ready');
    for (const name of ['api-ask', 'api-ask-node']) {
      expect(read(`${name}.code`), name).toBe('200');
      const ask = readJson(`${name}.body`);
      expect(ask.covered, name).toBe(true);
      expect(ask.citations[0].document, name).toBe('请假制度.md');
    }
    expect(read('steps.txt')).toMatch(/^serve 0$/m);
  });

  it('ingested a folder, answered from it, verified deep, backed up, restored into an empty folder and answered there', () => {
    const steps = Object.fromEntries(read('steps.txt').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(steps).toEqual({ serve: '0', 'kb-create': '0', ingest: '0', ask: '0', verify: '0', backup: '0', restore: '0', 'ask-restored': '0', 'verify-restored': '0' });
    const ingest = readJson('ingest.out');
    expect(ingest).toMatchObject({ kb: 'airgap', added: 3, failed: 0 });
    const ask = readJson('ask.out');
    expect(ask.covered).toBe(true);
    expect(ask.answer).toContain('72小时');
    expect(ask.citations[0]).toMatchObject({ kb: 'airgap', document: '停电预案.md' });
    const verify = readJson('verify.out');
    expect(verify).toMatchObject({ ok: true, deep: true, problems: [] });
    const backup = readJson('backup.out');
    expect(backup.snapshot).toBeTruthy();
    expect(backup.files).toBeGreaterThan(0);
    const restore = readJson('restore.out');
    expect(restore.before).toEqual([]);
    expect(restore.after.map((k: { name: string }) => k.name).sort()).toEqual(['airgap', 'demo']);
    expect(restore.staged.verify.ok).toBe(true);
    const again = readJson('ask-restored.out');
    expect(again.answer).toBe(ask.answer);
    expect(again.citations.map((c: { document: string }) => c.document)).toEqual(ask.citations.map((c: { document: string }) => c.document));
    expect(readJson('verify-restored.out')).toMatchObject({ ok: true, deep: true });
  });

  it.skipIf(straceReason !== null)(`the tracer sees a non-loopback attempt (control: 203.0.113.7 fails with ENETUNREACH)${straceReason ? ` (skipped: ${straceReason})` : ''}`, () => {
    expect(read('control.out').trim()).toBe('ENETUNREACH');
    const calls = parseStrace(read('control.trace'));
    const offending = calls.filter((c) => (c.family === 'AF_INET' || c.family === 'AF_INET6') && !isLoopbackDestination(c));
    expect(offending.map((c) => c.address)).toContain('203.0.113.7');
    expect(offending.find((c) => c.address === '203.0.113.7')?.result).toMatch(/ENETUNREACH/);
  });

  it.skipIf(straceReason !== null)(`nothing in the cycle tried to reach a non-loopback address (strace: connect, sendto, sendmsg, sendmmsg)${straceReason ? ` (skipped: ${straceReason})` : ''}`, () => {
    const trace = read('cycle.trace');
    const calls = parseStrace(trace);
    const programs = programsByPid(trace);
    const inet = calls.filter((c) => c.family === 'AF_INET' || c.family === 'AF_INET6');
    // The trace did record the cycle's own loopback traffic — curl's and node's fetch to serve —
    // so it was watching the node processes too, not only the shell's children.
    const loopbackConnects = inet.filter((c) => c.call === 'connect' && isLoopbackDestination(c));
    expect(loopbackConnects.some((c) => programs.get(c.pid) === process.execPath)).toBe(true);
    // Every lifeline command ran under the tracer (execve of node with scripts/lifeline.mjs).
    expect((trace.match(/execve\("[^"]*", \["[^"]*", "[^"]*scripts\/lifeline\.mjs"/g) ?? []).length).toBeGreaterThanOrEqual(9);
    const offending = inet.filter((c) => !isLoopbackDestination(c)).map((c) => c.line);
    expect(offending).toEqual([]);
    const otherFamilies = [...new Set(calls.map((c) => c.family).filter((f) => f !== 'AF_INET' && f !== 'AF_INET6'))];
    for (const f of otherFamilies) expect(LOCAL_FAMILIES.has(f), `${f}: ${calls.find((c) => c.family === f)?.line}`).toBe(true);
    const summary = [...new Set(calls.map((c) => `${c.family} ${c.address ?? ''} (${path.basename(programs.get(c.pid) ?? '?')})`))].sort();
    fs.writeFileSync(path.join(OUT, 'destinations.txt'), summary.join('\n'));
  });

  it('kept under a minute', () => {
    expect(ran).not.toBeNull();
    expect(ran!.ms).toBeLessThan(60_000);
  });
});

describe('reading strace logs', () => {
  it('parses strace lines of every shape it prints (IPv4, IPv6, mapped, unix, netlink, unfinished, msg_name)', () => {
    const sample = [
      '101 connect(21, {sa_family=AF_INET, sin_port=htons(40123), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)',
      '102 connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
      '103 connect(3, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
      '104 sendmsg(5, {msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, msg_namelen=16, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1',
      '105 sendto(3, [{nlmsg_len=20, nlmsg_type=RTM_GETLINK}], 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20',
      '106 connect(7, {sa_family=AF_UNIX, sun_path="/run/udev/control"}, 110) = -1 ENOENT (No such file or directory)',
      '107 sendto(9, "GET / HTTP/1.1", 14, MSG_NOSIGNAL, NULL, 0) = 14',
      '108 sendmmsg(4, [{msg_hdr={msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}, msg_namelen=16}, msg_len=0}], 1, MSG_NOSIGNAL) = 1',
      '109 <... connect resumed>) = 0',
    ].join('\n');
    const calls = parseStrace(sample);
    expect(calls.map((c) => [c.family, c.address, isLoopbackDestination(c)])).toEqual([
      ['AF_INET', '127.0.0.1', true],
      ['AF_INET6', '2001:db8::1', false],
      ['AF_INET6', '::ffff:127.0.0.1', true],
      ['AF_INET', '192.0.2.53', false],
      ['AF_NETLINK', null, false],
      ['AF_UNIX', '"/run/udev/control"', false],
      ['AF_INET', '10.0.0.1', false],
    ]);
  });
});
