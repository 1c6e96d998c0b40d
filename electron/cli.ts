// `lifeline <command> [--data DIR] [--json]` — the stable command line (DESIGN.md "The CLI").
// Exit status: 0 ok, 1 problems found, 2 usage or operational error (message on stderr).
import fs from 'node:fs';
import { UserError } from './api/handlers.js';
import { DEFAULT_SITE, type LifelineApp, type SiteConfig, mediaRoots, openLifeline } from './core/app.js';
import { getMeta, setMeta } from './core/store/catalog.js';
import { DRILL_SCENARIOS, type DrillResult, type DrillScenario } from './api/contract.js';
import { KnowledgeService } from './core/kb/knowledge.js';
import { CatalogError } from './core/store/catalog.js';
import { inspectChatchat } from './core/chatchat/index.js';
import { Repository, type SnapshotManifest } from './core/backup/repo.js';
import { DEFAULT_KEEP_LOG_DAYS, pruneRepository, verifyRepository } from './core/backup/backup.js';
import { listBackupTargets } from './core/backup/drives.js';
import { startServer } from './server.js';
import { escapeControls } from './core/kb/formats/types.js';

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_ERROR = 2;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--data', '--kb', '--port', '--host', '--description', '--limit', '--token-file', '--embedder', '--document', '--source-kb', '--repo', '--passphrase-file', '--snapshot', '--sample', '--keep', '--keep-logs', '--compose-projects', '--expected-ports', '--expected-mounts', '--docker-socket']);
const BOOL_FLAGS = new Set(['--json', '--help', '-h', '--no-demo', '--yes', '--deep', '--rollback', '--air-gap', '--no-air-gap']);

class UsageError extends Error {}

/**
 * Human output as a terminal may show it: names and reasons come from documents, drives and
 * repositories, and an ESC sequence among them must not clear or recolour the operator's screen.
 * Control characters are shown escaped, except the line breaks and tabs of the layout.
 */
export function terminalSafe(s: string): string {
  return s.split(/(\n|\t)/).map((part) => (part === '\n' || part === '\t' ? part : escapeControls(part))).join('');
}

export function parseArgs(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (VALUE_FLAGS.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined || v === '') throw new UsageError(`${name} needs a value`);
        flags.set(name, v);
      } else if (BOOL_FLAGS.has(name) && eq < 0) flags.set(name, true);
      else throw new UsageError(`unknown option ${a}`);
    } else positional.push(a);
  }
  return { positional, flags };
}

const HELP = `Lifeline — offline knowledge-base Q&A and guided recovery

Usage: lifeline <command> [options]

Commands:
  serve [--port N] [--host 127.0.0.1]   serve the console on loopback; prints the address with its token
  ask "question" [--kb NAME] [--document NAME] [--limit N]
                                        answer with citations (the chat model in models/ when there is one)
  verify [--deep]                       check the data root: exit 0 ok, 1 problems found
  repair                                rebuild derived data (segments, indexes), sweep, resume; lists each repair
  chatchat inspect DIR [--deep]         judge a Langchain-Chatchat knowledge_base folder (or a bare FAISS folder)
  chatchat import DIR --kb NAME [--source-kb NAME]
                                        bring its documents into a Lifeline knowledge base, re-embedded
  backup --repo DIR [--passphrase-file F]
                                        encrypted, incremental backup (creates the repository if needed);
                                        no passphrase needed once this data root has unlocked the repository
  backups list|verify|prune --repo DIR [--sample N] [--keep DAYS] [--keep-logs DAYS]
                                        snapshots; decrypt and re-hash blobs (exit 1 if damaged); retention
  backups targets                       plugged-in drives and backup folders, with repositories found
  restore --repo DIR [--snapshot ID] [--passphrase-file F]
                                        restore: staged, verified, then swapped in; previous kept
  restore --rollback                    put back the data root the last restore replaced
  doctor                                every recovery check, no questions: exit 0 healthy, 1 problems, 2 could not run
  golden run|baseline [--kb NAME]       golden questions against the recorded baseline (run: exit 1 on any failure)
  site show | site set [--compose-projects a,b] [--expected-ports 7860] [--expected-mounts /srv/x]
                       [--air-gap|--no-air-gap] [--docker-socket PATH]
                                        what the site runs, for doctor and the recovery wizard
  drill SCENARIO|all                    a disaster drill on a sandbox copy of the data root, timed:
                                        index-lost index-corrupt catalog-corrupt model-missing disk-full container-down
                                        port-conflict usb-pulled-mid-restore power-cut-mid-ingest power-cut-mid-backup
  models list                           GGUF files in the data root's models/ folder
  models use-chat FILE.gguf|none        choose the chat model (none: extractive answers only)
  kb list                               list knowledge bases
  kb create NAME [--description TEXT] [--embedder FILE.gguf]
                                        create a knowledge base (default embedder: built-in hashed n-grams)
  kb reembed NAME --embedder FILE.gguf|default
                                        re-embed every chunk with another embedder, as one swap
  kb rename NAME NEW_NAME               rename a knowledge base
  kb delete NAME [--yes]                delete (recoverable: kb undelete) — asks to type the name unless --yes
  kb deleted                            list deleted knowledge bases
  kb undelete NAME                      bring a deleted knowledge base back
  kb purge NAME [--yes]                 remove a deleted knowledge base for good
  kb documents NAME                     list a knowledge base's documents
  kb remove-document NAME DOCUMENT      delete one document from every index
  kb compact NAME                       rewrite vector segments without deleted rows
  ingest <files or folders> --kb NAME   add or update documents (txt md csv html pdf docx xlsx jsonl)
  version                               print the version

Options for every command:
  --data DIR   data root (default: $LIFELINE_HOME or ~/.local/share/lifeline)
  --json       one JSON document on stdout
  --no-demo    do not create the demo knowledge base in a fresh data root

Exit status: 0 ok, 1 problems found, 2 usage or operational error.`;

type Out = { json: boolean; print(human: string, data: unknown): void };

export async function runCli(argv: readonly string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`lifeline: ${terminalSafe((err as Error).message)}\n\n${HELP}\n`);
    return EXIT_ERROR;
  }
  const { positional, flags } = parsed;
  const [command, ...rest] = positional;
  if (!command || flags.has('--help') || flags.has('-h') || command === 'help') {
    process.stdout.write(HELP + '\n');
    return command || flags.has('--help') || flags.has('-h') ? EXIT_OK : EXIT_ERROR;
  }
  const out: Out = {
    json: flags.has('--json'),
    print(human, data) {
      process.stdout.write(this.json ? JSON.stringify(data, null, 2) + '\n' : terminalSafe(human.endsWith('\n') ? human : human + '\n'));
    },
  };
  const str = (name: string) => (typeof flags.get(name) === 'string' ? (flags.get(name) as string) : undefined);
  const openAs = (access: 'read' | 'write', maintenance = true, warmUp = true) => () =>
    openLifeline({ dataDir: str('--data'), shell: 'cli', seedDemo: !flags.has('--no-demo'), access, command: `lifeline ${command}`, maintenance, warmUp });
  const open = openAs('write');
  const needRepo = () => {
    const r = str('--repo');
    if (!r) throw new UsageError(`${command} needs --repo DIR (a backup repository folder, e.g. on a USB drive)`);
    return r;
  };
  const confirmed = async (what: string, name: string) => {
    if (flags.has('--yes')) return name;
    if (!process.stdin.isTTY) throw new UsageError(`${what} "${name}" needs confirmation: add --yes`);
    const rl = (await import('node:readline/promises')).createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`Type the knowledge base name to ${what} it (${name}): `);
    rl.close();
    return answer.trim();
  };

  try {
    switch (command) {
      case 'version':
        out.print(`lifeline ${(await import('./core/util/appRoot.js')).appVersion()}`, { version: (await import('./core/util/appRoot.js')).appVersion() });
        return EXIT_OK;
      case 'serve':
        return await serve(str, flags);
      case 'ask': {
        const question = rest.join(' ').trim();
        if (!question) throw new UsageError('ask needs a question, e.g. lifeline ask "如何请假？"');
        return await withApp(openAs('read'), async (app) => {
          const limit = str('--limit') ? Number(str('--limit')) : undefined;
          const streaming = !out.json && process.stdout.isTTY;
          const doc = str('--document');
          const r = await app.answer({ question, kb: str('--kb'), limit, documents: doc ? [doc] : undefined }, { onDelta: streaming ? (t) => process.stdout.write(terminalSafe(t)) : undefined });
          if (streaming && r.mode === 'model') process.stdout.write('\n\n');
          const human = [r.answer, '', ...r.citations.map((c) => `[${c.n}] ${c.kb} / ${c.document} — ${c.location} (score ${c.score})`)].join('\n');
          out.print(human, { answer: r.answer, covered: r.covered, citations: r.citations.map(({ passage: _p, ...c }) => c), mode: r.mode, tookMs: r.tookMs });
          return EXIT_OK;
        });
      }
      case 'kb': {
        const [sub = 'list', name, extra] = rest;
        const needName = () => {
          if (!name) throw new UsageError(`kb ${sub} needs a knowledge base name`);
          return name;
        };
        return await withApp(openAs(sub === 'list' || sub === 'documents' || sub === 'deleted' ? 'read' : 'write'), async (app) => {
          const k = app.knowledge;
          switch (sub) {
            case 'list': {
              const kbs = k.listKbs();
              out.print(kbs.map((x) => `${x.name}\t${x.documents} documents\t${x.chunks} chunks\t${x.embedder.id}/${x.embedder.dimension}\t${x.description}`).join('\n') || '(no knowledge bases)', kbs);
              return EXIT_OK;
            }
            case 'create': {
              const kb = await app.handlers['kb.create']({ name: needName(), description: str('--description') ?? '', embedder: str('--embedder') });
              out.print(`created knowledge base "${kb.name}"`, kb);
              return EXIT_OK;
            }
            case 'rename': {
              if (!extra) throw new UsageError('kb rename needs NAME NEW_NAME');
              const kb = k.renameKb(needName(), extra);
              out.print(`renamed "${name}" to "${kb.name}"`, kb);
              return EXIT_OK;
            }
            case 'delete':
              k.deleteKb(needName(), await confirmed('delete', needName()));
              out.print(`deleted knowledge base "${name}" (recoverable: lifeline kb undelete ${JSON.stringify(name)})`, { deleted: name });
              return EXIT_OK;
            case 'deleted': {
              const list = k.deletedKbs();
              out.print(list.map((d) => `${d.name}\tdeleted ${d.deletedAt}\t${d.documents} documents`).join('\n') || '(none)', list);
              return EXIT_OK;
            }
            case 'undelete': {
              const kb = k.undeleteKb(needName());
              out.print(`restored knowledge base "${kb.name}"`, kb);
              return EXIT_OK;
            }
            case 'purge':
              k.purgeKb(needName(), await confirmed('purge', needName()));
              out.print(`purged knowledge base "${name}"`, { purged: name });
              return EXIT_OK;
            case 'documents': {
              const docs = k.documents(needName());
              out.print(docs.map((d) => `${d.name}\t${d.format}\t${d.bytes} bytes\t${d.chunks} chunks\t${d.ingestedAt}`).join('\n') || '(no documents)', docs);
              return EXIT_OK;
            }
            case 'remove-document':
              if (!extra) throw new UsageError('kb remove-document needs NAME DOCUMENT');
              k.deleteDocument(needName(), extra);
              out.print(`removed "${extra}" from "${name}"`, { deleted: extra });
              return EXIT_OK;
            case 'reembed': {
              const embedder = str('--embedder');
              if (!embedder) throw new UsageError('kb reembed needs --embedder FILE.gguf or --embedder default');
              const stop = showProgress(app);
              const r = await app.handlers['kb.reembed']({ kb: needName(), embedder }).finally(stop);
              out.print(`re-embedded ${r.chunks} chunks of "${name}" with ${r.embedder.id} (dimension ${r.embedder.dimension})`, r);
              return EXIT_OK;
            }
            case 'compact': {
              const r = await app.jobs.run('compact', `Compact ${name}`, async (ctx) => k.compact(needName(), ctx));
              out.print(`segments ${r.segmentsBefore} → ${r.segmentsAfter}, ${r.vectors} vectors kept, ${r.tombstonesDropped} deleted rows dropped`, r);
              return EXIT_OK;
            }
            default:
              throw new UsageError(`unknown kb command "${sub}"`);
          }
        });
      }
      case 'verify':
        // Without loading the indexes first: verify reads what it checks itself.
        return await withApp(openAs('read', false, false), async (app) => {
          const r = await app.verify(flags.has('--deep'));
          const human = [
            `${r.ok ? 'OK' : 'PROBLEMS FOUND'} (${r.deep ? 'deep' : 'fast'} check, ${r.durationMs} ms): ${Object.entries(r.checked).map(([k, v]) => `${k} ${v}`).join(', ')}`,
            ...r.problems.map((p) => `${p.severity.toUpperCase().padEnd(7)} ${p.code}  ${p.path}\n        ${p.message}\n        fix: ${REPAIR_WORDS[p.repair]}`),
          ].join('\n');
          out.print(human, { ok: r.ok, deep: r.deep, checked: r.checked, problems: r.problems, durationMs: r.durationMs });
          return r.problems.length ? EXIT_PROBLEMS : EXIT_OK;
        });
      case 'repair':
        return await withApp(openAs('write', false), async (app) => {
          const r = await app.repair();
          const human = [
            ...(app.startup.repaired ? app.startup.repaired.actions.map((a) => `${a.ok ? 'done' : 'FAILED'}  ${a.action} (at start-up)${a.error ? `: ${a.error}` : ''}`) : []),
            ...r.actions.map((a) => `${a.ok ? 'done' : 'FAILED'}  ${a.action}${a.error ? `: ${a.error}` : ''}`),
            ...(r.actions.length === 0 && !app.startup.repaired ? ['nothing to repair'] : []),
            ...r.needsRestore.map((p) => `NEEDS RESTORE  ${p.path}: ${p.message}`),
            r.ok ? 'the data root verifies clean' : 'problems remain: see lifeline verify --deep',
          ].join('\n');
          out.print(human, { ok: r.ok, startup: app.startup.repaired?.actions ?? [], actions: r.actions, needsRestore: r.needsRestore, after: r.after });
          return r.ok ? EXIT_OK : EXIT_PROBLEMS;
        });
      case 'backup': {
        const repo = needRepo();
        const file = str('--passphrase-file');
        return await withApp(open, async (app) => {
          // Without --passphrase-file, a repository this data root has unlocked before takes its
          // write key (no passphrase asked); any other needs the passphrase.
          const passphrase = file || !app.canBackUpWithoutPassphrase(repo) ? await readPassphrase(file) : undefined;
          const stop = showProgress(app);
          const r = await app.runBackup(repo, passphrase).finally(stop);
          out.print(
            `snapshot ${r.snapshot} in ${r.repo}: ${r.files} files (${fmtBytes(r.bytesTotal)}), ${r.newFiles} new (${fmtBytes(r.bytesWritten)} written) in ${(r.durationMs / 1000).toFixed(1)} s${r.pruned.length ? `; pruned ${r.pruned.length} old snapshots` : ''}${r.pruneDeferred ? '; made without the passphrase (the write key): old snapshots are pruned by the next backup given it, or by lifeline backups prune' : ''}`,
            r,
          );
          return EXIT_OK;
        });
      }
      case 'backups': {
        const [sub = 'list'] = rest;
        if (sub === 'targets') {
          const targets = await listBackupTargets({ roots: mediaRoots() });
          out.print(targets.map((t) => `${t.kind}\t${t.path}\t${t.label ?? ''}\t${t.mounted ? 'mounted' : 'NOT MOUNTED'}\tfree ${t.freeBytes === null ? '?' : fmtBytes(t.freeBytes)}\t${t.repositories.length} repositories${t.note ? `\t${t.note}` : ''}`).join('\n') || '(no drives or backup folders found under /media, /run/media, /mnt)', targets);
          return EXIT_OK;
        }
        const repoDir = needRepo();
        const repo = await Repository.open(repoDir, await readPassphrase(str('--passphrase-file')));
        if (sub === 'list') {
          const list = repo.snapshotFiles().map((f) => ({ id: f.replace(/\.age$/, ''), ...summarize(repo.readSnapshot(f)) }));
          out.print(list.map((x) => `${x.id}\t${x.time}\t${x.host}\t${x.files} files\t${fmtBytes(x.bytes)}\t${x.kbs}`).join('\n') || '(no snapshots)', list);
          return EXIT_OK;
        }
        if (sub === 'verify') {
          const sample = str('--sample') ? Number(str('--sample')) : undefined;
          const r = await verifyRepository(repo, { sample });
          out.print([`${r.ok ? 'OK' : 'DAMAGED'}: ${r.blobsChecked} blobs (${fmtBytes(r.bytesChecked)}) of ${r.snapshots} snapshots checked`, ...r.damaged.map((d) => `DAMAGED snapshot ${d.snapshot}: ${d.file} — ${d.reason}`)].join('\n'), r);
          return r.ok ? EXIT_OK : EXIT_PROBLEMS;
        }
        if (sub === 'prune') {
          const keep = str('--keep') ? Number(str('--keep')) : 7;
          if (!Number.isInteger(keep) || keep < 1) throw new UsageError('--keep needs a whole number of days ≥ 1');
          const keepLogs = str('--keep-logs') ? Number(str('--keep-logs')) : DEFAULT_KEEP_LOG_DAYS;
          if (!Number.isInteger(keepLogs) || keepLogs < 1) throw new UsageError('--keep-logs needs a whole number of days ≥ 1');
          const r = pruneRepository(repo, keep, new Date(), keepLogs);
          out.print(
            `removed ${r.removedSnapshots.length} snapshots${r.retained.length ? ` (${r.retained.length} kept as retained manifests: their logs for ${keepLogs} days, deleted documents for good)` : ''} and ${r.removedBlobs} unreferenced blobs (original documents are kept forever)`,
            r,
          );
          return EXIT_OK;
        }
        throw new UsageError(`unknown backups command "${sub}" (list, verify, prune, targets)`);
      }
      case 'restore': {
        if (flags.has('--rollback')) {
          return await withApp(openAs('write', false), async (app) => {
            const r = await app.runRollback();
            out.print(`put back the data root kept at ${r.restored}`, r);
            return EXIT_OK;
          });
        }
        const repo = needRepo();
        const passphrase = await readPassphrase(str('--passphrase-file'));
        // A fresh target (an empty --data folder) gets no demo: it is about to become the restored root.
        return await withApp(() => openLifeline({ dataDir: str('--data'), shell: 'cli', seedDemo: false, maintenance: false, command: 'lifeline restore' }), async (app) => {
          const stop = showProgress(app);
          const r = await app.runRestore(repo, passphrase, str('--snapshot'), str('--kb')).finally(stop);
          const kbLine = (k: { name: string; documents: number; chunks: number }) => `  ${k.name}: ${k.documents} documents, ${k.chunks} chunks`;
          out.print(
            [
              `restored snapshot ${r.snapshot} (${r.staged.files} files, ${fmtBytes(r.staged.bytes)}) in ${(r.durationMs / 1000).toFixed(1)} s; verified before the swap`,
              'before:',
              ...(r.before.length ? r.before.map(kbLine) : ['  (empty)']),
              'after:',
              ...r.after.map(kbLine),
              r.previous ? `the previous data root is kept in ${r.previous} (lifeline restore --rollback)` : '',
            ].join('\n'),
            r,
          );
          return EXIT_OK;
        });
      }
      case 'chatchat': {
        const [sub, dir] = rest;
        if (!dir || (sub !== 'inspect' && sub !== 'import')) throw new UsageError('chatchat inspect DIR [--deep] | chatchat import DIR --kb NAME');
        if (sub === 'inspect') {
          // Reads another product's files only: no Lifeline data root is opened.
          const r = await inspectChatchat(dir, { deep: flags.has('--deep') });
          const human = [
            `${r.ok ? 'OK' : 'PROBLEMS FOUND'}: ${r.root}`,
            ...r.knowledgeBases.flatMap((kb) => [
              `knowledge base ${kb.name} (embed model ${kb.embedModel ?? 'unknown'}; info.db ${kb.infoDb ? `${kb.infoDb.files} files, ${kb.infoDb.docs ?? '?'} docs` : 'absent'}; content ${kb.content.present} present, ${kb.content.missing} missing)`,
              ...kb.vectorStores.flatMap((v) => [
                `  ${v.status.toUpperCase().padEnd(16)} ${v.path}: ${v.indexType ?? '?'} ${v.metric ?? ''} dim ${v.dimension ?? '?'}, ${v.vectors ?? '?'} vectors, ${v.documents ?? '?'} documents, id map ${v.idMap ?? '?'}`,
                ...v.problems.map((p) => `      ${p.code}: ${p.message}`),
              ]),
              ...kb.problems.map((p) => `  ${p.code}: ${p.message}`),
            ]),
            ...r.problems.map((p) => `${p.code}: ${p.message}`),
          ].join('\n');
          out.print(human, r);
          return r.ok ? EXIT_OK : EXIT_PROBLEMS;
        }
        const kb = str('--kb');
        if (!kb) throw new UsageError('chatchat import needs --kb NAME (the Lifeline knowledge base to import into)');
        return await withApp(open, async (app) => {
          const r = await app.handlers['chatchat.import']({ dir, kb, sourceKb: str('--source-kb') });
          const human = [
            `imported ${r.imported} documents into ${r.kb} (from ${r.source === 'original' ? 'the original files' : r.source === 'docstore' ? 'the docstore text' : 'originals and docstore text'})`,
            ...r.failed.map((f) => `FAILED ${f.document}: ${f.reason}`),
            ...r.notBroughtOver.map((n) => `not brought over: ${n.what} — ${n.reason}`),
          ].join('\n');
          out.print(human, r);
          return r.failed.length ? EXIT_PROBLEMS : EXIT_OK;
        });
      }
      case 'drill': {
        const [which] = rest;
        if (!which) throw new UsageError(`drill needs a scenario: ${DRILL_SCENARIOS.join(', ')}, or all`);
        const list = which === 'all' ? [...DRILL_SCENARIOS] : [which as DrillScenario];
        if (!list.every((x) => (DRILL_SCENARIOS as readonly string[]).includes(x))) throw new UsageError(`unknown drill scenario "${which}"; one of: ${DRILL_SCENARIOS.join(', ')}, all`);
        return await withApp(open, async (app) => {
          const results = [];
          for (const sc of list) results.push(await app.runDrill(sc));
          const line = (r: DrillResult) =>
            `${r.skipped ? 'SKIPPED' : r.detected && r.recovered ? 'PASS   ' : 'FAIL   '} ${r.scenario.padEnd(24)} ${r.skipped ? r.skipped : `detected ${r.detected ? `in ${r.detectMs} ms` : 'NO'}, recovered ${r.recovered ? `in ${r.recoverMs} ms` : 'NO'}${r.dataLost ? ', DATA LOST' : ''}`}`;
          out.print(results.flatMap((r) => [line(r), ...(list.length === 1 ? r.steps.map((st) => `        ${st.ok ? '·' : '!'} ${st.what}`) : [])]).join('\n'), list.length === 1 ? results[0] : results);
          return results.every((r) => r.detected && r.recovered && !r.dataLost && !r.skipped) ? EXIT_OK : EXIT_PROBLEMS;
        });
      }
      case 'doctor':
        return await withApp(openAs('read'), async (app) => {
          const r = await app.handlers['doctor.run']({});
          const human = [
            `${r.ok ? 'HEALTHY' : 'PROBLEMS FOUND'} (${r.durationMs} ms)`,
            ...r.steps.flatMap((st) => [
              `${st.status.toUpperCase().padEnd(8)} ${st.id}`,
              ...st.findings.filter((f) => f.severity === 'fail' || f.severity === 'warn').map((f) => `         ${f.severity} ${f.code}: ${f.message}${f.advice ? `\n           → ${f.advice}` : ''}`),
            ]),
          ].join('\n');
          out.print(human, r);
          return r.ok ? EXIT_OK : EXIT_PROBLEMS;
        });
      case 'golden': {
        const [sub = 'run'] = rest;
        if (sub !== 'run' && sub !== 'baseline') throw new UsageError('golden run|baseline [--kb NAME]');
        return await withApp(openAs(sub === 'run' ? 'read' : 'write'), async (app) => {
          const kbs = str('--kb') ? [str('--kb')!] : (await app.handlers['golden.sets']({})).map((x) => x.kb);
          if (kbs.length === 0) throw new UsageError('no golden question sets: write <data>/golden/<kb>.json (see resources/golden/README.md)');
          const runs = [];
          for (const kb of kbs) runs.push(await app.handlers[sub === 'run' ? 'golden.run' : 'golden.baseline']({ kb }));
          const human = runs
            .flatMap((r) => [
              `${r.kb}: ${r.passed}/${r.total} passed (${r.durationMs} ms)${sub === 'baseline' ? ' — recorded as the baseline' : r.hasBaseline ? '' : ' — no baseline yet (lifeline golden baseline)'}`,
              ...r.results.map((q) => `  ${q.passed ? 'PASS' : 'FAIL'} ${q.id} ${q.latencyMs} ms${q.reasons.length ? ' — ' + q.reasons.join('; ') : ''}${q.changes.length ? ' [since baseline: ' + q.changes.join('; ') + ']' : ''}`),
            ])
            .join('\n');
          out.print(human, runs.length === 1 ? runs[0] : runs);
          return sub === 'run' && runs.some((r) => r.failed > 0) ? EXIT_PROBLEMS : EXIT_OK;
        });
      }
      case 'site': {
        const [sub = 'show'] = rest;
        return await withApp(openAs(sub === 'show' ? 'read' : 'write'), async (app) => {
          const current = { ...DEFAULT_SITE, ...JSON.parse(getMeta(app.db, 'site_config') ?? '{}') } as SiteConfig;
          if (sub === 'set') {
            const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean));
            const ports = list(str('--expected-ports'))?.map(Number);
            if (ports?.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new UsageError('--expected-ports takes port numbers, e.g. 7860,8080');
            const next: SiteConfig = {
              ...current,
              ...(list(str('--compose-projects')) ? { composeProjects: list(str('--compose-projects'))! } : {}),
              ...(ports ? { expectedPorts: ports } : {}),
              ...(list(str('--expected-mounts')) ? { expectedMounts: list(str('--expected-mounts'))! } : {}),
              ...(flags.has('--air-gap') ? { airGap: true } : flags.has('--no-air-gap') ? { airGap: false } : {}),
              ...(str('--docker-socket') ? { dockerSocket: str('--docker-socket') } : {}),
            };
            setMeta(app.db, 'site_config', JSON.stringify(next));
            out.print(JSON.stringify(next, null, 2), next);
            return EXIT_OK;
          }
          out.print(JSON.stringify(current, null, 2), current);
          return EXIT_OK;
        });
      }
      case 'models': {
        const [sub = 'list', name] = rest;
        return await withApp(openAs(sub === 'list' ? 'read' : 'write'), async (app) => {
          if (sub === 'list') {
            const list = await app.models.list();
            const chat = await app.models.chatModelName();
            out.print(list.map((m) => `${m.name}\t${m.kind}\t${m.bytes} bytes\t${m.sha256.slice(0, 12)}${m.name === chat ? '\t(answers questions)' : ''}${m.error ? `\tERROR ${m.error}` : ''}`).join('\n') || `(no GGUF files in ${app.models.dir})`, { models: list, chatModel: chat });
            return list.some((m) => m.error) ? EXIT_PROBLEMS : EXIT_OK;
          }
          if (sub === 'use-chat') {
            if (!name) throw new UsageError('models use-chat needs FILE.gguf or none');
            const r = await app.handlers['models.useChat']({ name: name === 'none' ? null : name });
            out.print(r.chatModel ? `answers now come from ${r.chatModel}` : 'answers are now extractive (no chat model)', r);
            return EXIT_OK;
          }
          throw new UsageError(`unknown models command "${sub}"`);
        });
      }
      case 'ingest': {
        const kb = str('--kb');
        if (!kb) throw new UsageError('ingest needs --kb NAME');
        if (rest.length === 0) throw new UsageError('ingest needs files or folders');
        const inputs = KnowledgeService.collectInputs(rest);
        return await withApp(open, async (app) => {
          const stopProgress = showProgress(app);
          const report = await app.jobs
            .run('ingest', `Ingest into ${kb}`, (ctx) => app.knowledge.ingest(kb, inputs, ctx))
            .finally(stopProgress);
          const human = [
            ...report.files.map((f) => `${f.status.padEnd(9)} ${f.document}${f.status === 'failed' ? ` — ${f.error}` : ` (${f.chunks} chunks)`}`),
            `${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed`,
          ].join('\n');
          out.print(human, report);
          return report.failed > 0 ? EXIT_PROBLEMS : EXIT_OK;
        });
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof CatalogError && command === 'verify') {
      // The one thing that cannot be rebuilt (damaged, unopenable, read-only): report it as a
      // problem, like any other finding.
      const problem = { code: err.code, severity: 'error', path: 'catalog.sqlite', message: err.message, repair: 'restore' };
      out.print(`PROBLEMS FOUND\nERROR   ${err.code}  catalog.sqlite\n        ${err.message}\n        fix: ${REPAIR_WORDS.restore}`, { ok: false, deep: flags.has('--deep'), checked: {}, problems: [problem], durationMs: 0 });
      return EXIT_PROBLEMS;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`lifeline: ${terminalSafe(err.message)}\n(see lifeline --help)\n`);
      return EXIT_ERROR;
    }
    const message = err instanceof UserError || err instanceof Error ? err.message : String(err);
    if (out.json) process.stdout.write(JSON.stringify({ error: { code: err instanceof UserError ? err.code : 'error', message } }) + '\n');
    process.stderr.write(`lifeline: ${terminalSafe(message)}\n`);
    return EXIT_ERROR;
  }
}

async function withApp(open: () => Promise<LifelineApp>, fn: (app: LifelineApp) => Promise<number>): Promise<number> {
  const app = await open();
  if (app.info.dataRootWarning) process.stderr.write(`lifeline: warning: ${app.info.dataRootWarning}\n`);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

async function serve(str: (n: string) => string | undefined, flags: Map<string, string | true>): Promise<number> {
  const port = str('--port') ? Number(str('--port')) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${str('--port')} is not a port number`);
  const app = await openLifeline({ dataDir: str('--data'), shell: 'server', seedDemo: !flags.has('--no-demo'), background: true });
  if (app.info.dataRootWarning) process.stderr.write(`lifeline: warning: ${app.info.dataRootWarning}\n`);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(app, { host: str('--host'), port });
  } catch (err) {
    await app.close(); // release the data root and stop watchers, or the process would linger
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'EADDRINUSE' ? `port ${port} is already in use on 127.0.0.1; choose another with --port` : e.message);
  }
  const tokenFile = str('--token-file');
  if (tokenFile) fs.writeFileSync(tokenFile, server.token + '\n', { mode: 0o600 });
  if (flags.has('--json')) process.stdout.write(JSON.stringify({ url: server.url, consoleUrl: server.consoleUrl, port: server.port, token: server.token, dataRoot: app.info.dataRoot }) + '\n');
  else {
    process.stdout.write(`Lifeline console (data: ${app.info.dataRoot})\n  open: ${server.consoleUrl}\n  (this address holds the per-launch token; anyone on this machine with it can use the console)\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await app.close();
  return EXIT_OK;
}

function fmtBytes(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function summarize(m: SnapshotManifest) {
  return {
    time: m.time,
    host: m.host,
    files: m.files.length,
    bytes: m.files.reduce((s, f) => s + f.size, 0),
    kbs: m.retained ? 'retained: logs and deleted documents only (not restorable as a data root)' : m.knowledgeBases.map((k) => `${k.name}(${k.documents})`).join(' '),
    knowledgeBases: m.knowledgeBases,
    ...(m.retained ? { retained: true } : {}),
  };
}

/** The repository passphrase: from --passphrase-file, else asked on the terminal (not echoed). Never logged. */
async function readPassphrase(file: string | undefined): Promise<string> {
  if (file) {
    try {
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UsageError(`cannot read the passphrase file ${file}: ${(err as Error).message}`);
    }
  }
  if (!process.stdin.isTTY) throw new UsageError('give the repository passphrase with --passphrase-file F (no terminal to ask on)');
  process.stderr.write('Repository passphrase: ');
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          return reject(new UsageError('cancelled'));
        }
        value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}

const REPAIR_WORDS: Record<string, string> = {
  rebuild: 'rebuilt from the catalog by `lifeline repair`',
  restore: 'cannot be rebuilt: restore from a backup (`lifeline restore`)',
  reembed: 're-embed the knowledge base (`lifeline kb reembed`) or put the original model file back',
  sweep: 'removed by `lifeline repair` (leftovers of an interrupted write)',
  resume: 'finished by `lifeline repair` (or the next start)',
  none: 'informational',
};

/** Job progress on stderr when it is a terminal (stdout stays clean for --json). */
function showProgress(app: LifelineApp): () => void {
  if (!process.stderr.isTTY) return () => undefined;
  const off = app.jobs.onUpdate((j) => {
    const pct = j.total > 0 ? Math.floor((100 * j.done) / j.total) : 0;
    const eta = j.etaMs !== null ? `, about ${Math.ceil(j.etaMs / 1000)} s left` : '';
    process.stderr.write(`\r${terminalSafe(j.title)}: ${j.done}/${j.total} (${pct}%${eta}) ${terminalSafe(j.message.slice(0, 40)).padEnd(40)}`);
  });
  return () => {
    off();
    process.stderr.write('\n');
  };
}
