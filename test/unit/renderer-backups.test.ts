import { describe, expect, it } from 'vitest';
import type { BackupStatus, BackupTarget, JobRecord, SnapshotSummary } from '../../electron/api/contract.js';
import { dictionaries, translate, type MessageKey } from '../../renderer/i18n/index.js';
import {
  RESTORE_WORDS,
  ageMessage,
  checkPolicyForm,
  diffTargets,
  diskUsage,
  etaMessage,
  formOfPolicy,
  formatDuration,
  hasChange,
  isKnownRepo,
  isRestoreWord,
  jobProgress,
  joinPath,
  knownRepos,
  newJobOf,
  normalizeRepoPath,
  parseDailyTime,
  policyChanged,
  restoreRows,
  restoreTotals,
  shortId,
  sortSnapshots,
  targetKey,
  targetName,
  targetOfRepo,
  type PolicyForm,
} from '../../renderer/lib/backups.js';

function target(path: string, patch: Partial<BackupTarget> = {}): BackupTarget {
  return {
    path,
    label: null,
    kind: 'drive',
    device: `/dev/${path.split('/').pop()}`,
    fsType: 'ext4',
    removable: true,
    mounted: true,
    encrypted: false,
    sizeBytes: 1000,
    freeBytes: 400,
    repositories: [],
    note: null,
    ...patch,
  };
}

function job(id: string, patch: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    kind: 'backup',
    title: `backup ${id}`,
    state: 'running',
    done: 0,
    total: 0,
    bytesDone: 0,
    bytesTotal: 0,
    etaMs: null,
    message: '',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: null,
    error: null,
    ...patch,
  };
}

function status(patch: Partial<BackupStatus> = {}): BackupStatus {
  return {
    policy: { dailyAt: '02:30', targets: ['/mnt/nas/repo'], keepDailySnapshots: 7, maxAgeHours: 26 },
    lastGood: null,
    lastAttempt: null,
    warning: null,
    nextRun: null,
    ...patch,
  };
}

const LOCALES = ['zh-CN', 'en'] as const;

describe('free space bar', () => {
  it('shows the used fraction and the free percentage', () => {
    expect(diskUsage(1000, 400)).toEqual({ known: true, used: 0.6, freePercent: 40, low: false });
    expect(diskUsage(1000, 1000)).toEqual({ known: true, used: 0, freePercent: 100, low: false });
    expect(diskUsage(1000, 0)).toEqual({ known: true, used: 1, freePercent: 0, low: true });
  });

  it('warns below 10 % free', () => {
    expect(diskUsage(1000, 99).low).toBe(true);
    expect(diskUsage(1000, 100).low).toBe(false);
  });

  it('draws no bar when the size or the free space is unknown or nonsense', () => {
    for (const [size, free] of [
      [null, 10],
      [10, null],
      [0, 0],
      [-5, 1],
      [100, -1],
      [Number.NaN, 1],
    ] as const) {
      expect(diskUsage(size, free).known, `${size} ${free}`).toBe(false);
    }
  });

  it('never shows more free than the whole drive', () => {
    expect(diskUsage(100, 150)).toMatchObject({ used: 0, freePercent: 100 });
  });
});

describe('time left and durations', () => {
  it('says the time left in words, in both languages', () => {
    const cases: [number, string, string][] = [
      [12_000, '约剩 12 秒', 'about 12 s left'],
      [200, '约剩 1 秒', 'about 1 s left'],
      [90_000, '约剩 2 分钟', 'about 2 min left'],
      [59 * 60_000, '约剩 59 分钟', 'about 59 min left'],
      [(2 * 60 + 5) * 60_000, '约剩 2 小时 5 分钟', 'about 2 h 5 min left'],
    ];
    for (const [ms, zh, en] of cases) {
      const eta = etaMessage(ms);
      expect(eta).not.toBeNull();
      expect(translate('zh-CN', eta!.key, eta!.params)).toBe(zh);
      expect(translate('en', eta!.key, eta!.params)).toBe(en);
    }
  });

  it('says nothing when the core cannot estimate', () => {
    expect(etaMessage(null)).toBeNull();
    expect(etaMessage(undefined)).toBeNull();
    expect(etaMessage(-1)).toBeNull();
    expect(etaMessage(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('formats durations for the result line', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(187_000)).toBe('3:07');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(-1)).toBe('–');
  });

  it('says how long ago', () => {
    const h = 3_600_000;
    expect(translate('en', ageMessage(30_000).key, ageMessage(30_000).params)).toBe('just now');
    expect(translate('en', ageMessage(5 * 60_000).key, ageMessage(5 * 60_000).params)).toBe('5 minutes ago');
    expect(translate('zh-CN', ageMessage(30 * h).key, ageMessage(30 * h).params)).toBe('30 小时前');
    expect(translate('en', ageMessage(72 * h).key, ageMessage(72 * h).params)).toBe('3 days ago');
  });
});

describe('job progress', () => {
  it('counts by bytes when the bytes are known, else by items', () => {
    expect(jobProgress(job('a', { bytesDone: 256, bytesTotal: 1024, done: 9, total: 10 })).percent).toBe(25);
    expect(jobProgress(job('a', { done: 3, total: 4 })).percent).toBe(75);
    expect(jobProgress(job('a')).percent).toBe(0);
    expect(jobProgress(null)).toEqual({ percent: 0, bytesDone: 0, bytesTotal: 0, done: 0, total: 0 });
  });

  it('stays within 0..100, shows 100 only when done', () => {
    expect(jobProgress(job('a', { bytesDone: 999, bytesTotal: 1000 })).percent).toBe(99);
    expect(jobProgress(job('a', { bytesDone: 2000, bytesTotal: 1000 })).percent).toBe(100);
    expect(jobProgress(job('a', { state: 'done', bytesDone: 10, bytesTotal: 1000 })).percent).toBe(100);
  });

  it('finds the job of the call just made: new, of its kind, running rather than finished', () => {
    const before = new Set(['old']);
    const jobs = {
      old: job('old', { startedAt: '2025-01-01T00:00:09.000Z' }),
      verify: job('verify', { kind: 'backup-verify', startedAt: '2025-01-01T00:00:08.000Z' }),
      done: job('done', { state: 'done', startedAt: '2025-01-01T00:00:07.000Z' }),
      mine: job('mine', { startedAt: '2025-01-01T00:00:05.000Z' }),
    };
    expect(newJobOf(jobs, 'backup', before)?.id).toBe('mine');
    expect(newJobOf(jobs, 'backup-verify', before)?.id).toBe('verify');
    expect(newJobOf(jobs, 'restore', before)).toBeNull();
    expect(newJobOf({ old: jobs.old }, 'backup', before)).toBeNull();
  });
});

describe('drives plugged in and pulled', () => {
  const a = target('/media/a', { label: 'BACKUP-A' });
  const b = target('/media/b');
  const nas = target('/mnt/nas', { kind: 'folder', device: null, removable: false });

  it('lists the targets added and removed between two lists', () => {
    const change = diffTargets([a, nas], [nas, b]);
    expect(change.added.map((t) => t.path)).toEqual(['/media/b']);
    expect(change.removed.map((t) => t.path)).toEqual(['/media/a']);
    expect(hasChange(change)).toBe(true);
  });

  it('sees no change when nothing came or went, whatever the order', () => {
    const change = diffTargets([a, b, nas], [nas, b, a]);
    expect(change).toEqual({ added: [], removed: [] });
    expect(hasChange(change)).toBe(false);
    expect(hasChange(diffTargets([], []))).toBe(false);
  });

  it('treats a drive being mounted (its path changes) as the same drive', () => {
    const unmounted = target('', { device: '/dev/sdc1', mounted: false, sizeBytes: null, freeBytes: null });
    const mounted = target('/media/usb', { device: '/dev/sdc1', mounted: true });
    expect(diffTargets([unmounted], [mounted])).toEqual({ added: [], removed: [] });
    expect(targetKey(unmounted)).toBe(targetKey(mounted));
  });

  it('tells folders apart by path even on the same device', () => {
    const f1 = target('/srv/backup1', { kind: 'folder', device: '/dev/sda1' });
    const f2 = target('/srv/backup2', { kind: 'folder', device: '/dev/sda1' });
    expect(diffTargets([f1], [f1, f2]).added).toEqual([f2]);
  });

  it('names a target by label, else path, else device', () => {
    expect(targetName(a)).toBe('BACKUP-A');
    expect(targetName(b)).toBe('/media/b');
    expect(targetName(target('', { device: '/dev/sdz' }))).toBe('/dev/sdz');
    expect(targetName(target('/x', { label: '  ' }))).toBe('/x');
  });
});

describe('repository paths', () => {
  it('normalizes a typed path', () => {
    expect(normalizeRepoPath('  /mnt/nas/repo/  ')).toBe('/mnt/nas/repo');
    expect(normalizeRepoPath('/')).toBe('/');
    expect(normalizeRepoPath('   ')).toBe('');
    expect(normalizeRepoPath('D:\\backup\\')).toBe('D:\\backup');
  });

  it('joins a drive and the new repository folder', () => {
    expect(joinPath('/media/usb', 'lifeline-backup')).toBe('/media/usb/lifeline-backup');
    expect(joinPath('/media/usb/', 'lifeline-backup')).toBe('/media/usb/lifeline-backup');
    expect(joinPath('E:\\', 'lifeline-backup')).toBe('E:\\lifeline-backup');
  });

  it('finds the drive a repository lives on (the deepest)', () => {
    const root = target('/media', { kind: 'folder' });
    const usb = target('/media/usb', { repositories: ['/media/usb/lifeline-backup'] });
    expect(targetOfRepo('/media/usb/lifeline-backup', [root, usb])).toBe(usb);
    expect(targetOfRepo('/media/usb2/x', [usb])).toBeNull();
    expect(targetOfRepo('/mnt/other', [root, usb])).toBeNull();
  });

  it('knows a repository found on a drive, scheduled, last written, or opened', () => {
    const usb = target('/media/usb', { repositories: ['/media/usb/repo'] });
    const s = status({ lastGood: { at: '2025-01-01T00:00:00Z', repo: '/srv/last', snapshot: 'abc' } });
    expect(isKnownRepo('/media/usb/repo', [usb], null)).toBe(true);
    expect(isKnownRepo('/mnt/nas/repo', null, s)).toBe(true);
    expect(isKnownRepo('/srv/last', [], s)).toBe(true);
    expect(isKnownRepo('/tmp/new', [usb], s, ['/tmp/new'])).toBe(true);
    expect(isKnownRepo('/tmp/new', [usb], s)).toBe(false);
    expect(knownRepos([usb], s, ['/media/usb/repo', '/tmp/x'])).toEqual(['/mnt/nas/repo', '/media/usb/repo', '/srv/last', '/tmp/x']);
  });
});

describe('policy form', () => {
  const form = (patch: Partial<PolicyForm> = {}): PolicyForm => ({ dailyAt: '02:30', targets: ['/mnt/nas/repo'], keep: '7', keepLogs: '30', maxAge: '26', ...patch });

  it('reads HH:MM, also H:MM and a full-width colon; empty is off', () => {
    expect(parseDailyTime('02:30')).toBe('02:30');
    expect(parseDailyTime(' 2:05 ')).toBe('02:05');
    expect(parseDailyTime('23:59')).toBe('23:59');
    expect(parseDailyTime('00:00')).toBe('00:00');
    expect(parseDailyTime('2：30')).toBe('02:30');
    expect(parseDailyTime('')).toBeNull();
    expect(parseDailyTime('   ')).toBeNull();
  });

  it('refuses what is not a time of day', () => {
    for (const bad of ['24:00', '12:60', '1230', '12:3', 'ab:cd', '12:30:00', '-1:30', '123:00', '2 am']) {
      expect(parseDailyTime(bad), bad).toBeUndefined();
    }
  });

  it('builds the policy to save from a good form', () => {
    expect(checkPolicyForm(form({ dailyAt: '3:00', targets: ['/mnt/nas/repo/', '/mnt/nas/repo', ' '] }))).toEqual({
      policy: { dailyAt: '03:00', targets: ['/mnt/nas/repo'], keepDailySnapshots: 7, keepLogDays: 30, maxAgeHours: 26 },
      errors: {},
    });
    expect(checkPolicyForm(form({ dailyAt: '', targets: [] })).policy).toMatchObject({ dailyAt: null, targets: [] });
  });

  it('names each wrong field, with an explanation in both languages', () => {
    const check = checkPolicyForm(form({ dailyAt: '25:00', keep: '0', keepLogs: '-3', maxAge: '1.5' }));
    expect(check.policy).toBeNull();
    expect(Object.keys(check.errors).sort()).toEqual(['dailyAt', 'keep', 'keepLogs', 'maxAge']);
    for (const key of Object.values(check.errors)) {
      for (const locale of LOCALES) expect(translate(locale, key as MessageKey).length).toBeGreaterThan(5);
    }
    expect(translate('en', check.errors.dailyAt!)).toMatch(/HH:MM/);
    expect(checkPolicyForm(form({ keep: 'seven' })).errors.keep).toBeDefined();
    expect(checkPolicyForm(form({ maxAge: '' })).errors.maxAge).toBeDefined();
  });

  it('refuses a schedule with no repository to write to', () => {
    expect(checkPolicyForm(form({ targets: [] })).errors.targets).toBe('backups.policy.error.targets');
  });

  it('knows when the form differs from the saved policy', () => {
    const policy = { dailyAt: '02:30', targets: ['/mnt/nas/repo'], keepDailySnapshots: 7, maxAgeHours: 26 };
    expect(formOfPolicy(policy)).toEqual(form());
    expect(formOfPolicy({ ...policy, dailyAt: null }).dailyAt).toBe('');
    expect(policyChanged(form(), policy)).toBe(false);
    expect(policyChanged(form({ dailyAt: '2:30' }), policy)).toBe(false);
    expect(policyChanged(form({ keep: '8' }), policy)).toBe(true);
    // A policy saved before the logs' retention was configurable reads as the default, 30 days.
    expect(policyChanged(form({ keepLogs: '31' }), policy)).toBe(true);
    expect(policyChanged(form(), { ...policy, keepLogDays: 30 })).toBe(false);
    expect(policyChanged(form({ targets: ['/other'] }), policy)).toBe(true);
    expect(policyChanged(form({ dailyAt: 'bad' }), policy)).toBe(true);
  });
});

describe('restore confirmation', () => {
  it('accepts RESTORE or 恢复 whatever the console language', () => {
    expect(RESTORE_WORDS).toEqual(['RESTORE', '恢复']);
    for (const ok of ['RESTORE', 'restore', 'Restore', '  RESTORE ', '恢复', ' 恢复 ', 'ＲＥＳＴＯＲＥ']) expect(isRestoreWord(ok), ok).toBe(true);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'RESTOR', 'RESTORED', 'yes', '恢', '恢复了', 'RE STORE', '回滚']) expect(isRestoreWord(bad), bad).toBe(false);
  });

  it('asks for both words in both languages', () => {
    for (const locale of LOCALES) {
      const text = translate(locale, 'backups.restore.typeWord');
      expect(text).toContain('RESTORE');
      expect(text).toContain('恢复');
    }
  });
});

describe('restore before/after summary', () => {
  const now = [
    { name: 'pharmacy', documents: 10, chunks: 100 },
    { name: 'it-runbooks', documents: 5, chunks: 50 },
    { name: 'new-since', documents: 1, chunks: 3 },
  ];
  const snapshot = [
    { name: 'pharmacy', documents: 10, chunks: 100, embedder: 'default' },
    { name: 'it-runbooks', documents: 4, chunks: 41, embedder: 'default' },
    { name: 'archive', documents: 2, chunks: 9, embedder: 'default' },
  ];

  it('shows each knowledge base once, with what the restore does to it', () => {
    const rows = restoreRows(now, snapshot);
    expect(rows.map((r) => [r.name, r.change])).toEqual([
      ['archive', 'added'],
      ['it-runbooks', 'changed'],
      ['new-since', 'removed'],
      ['pharmacy', 'same'],
    ]);
    expect(rows[0]!.now).toBeNull();
    expect(rows[2]!.after).toBeNull();
    expect(rows[1]!.now).toMatchObject({ documents: 5 });
    expect(rows[1]!.after).toMatchObject({ documents: 4 });
    expect(restoreTotals(rows)).toEqual({ same: 1, changed: 1, added: 1, removed: 1 });
  });

  it('handles an empty side', () => {
    expect(restoreRows([], snapshot).every((r) => r.change === 'added')).toBe(true);
    expect(restoreRows(now, []).every((r) => r.change === 'removed')).toBe(true);
    expect(restoreRows([], [])).toEqual([]);
  });

  it('explains every change in both languages', () => {
    for (const change of ['same', 'changed', 'added', 'removed'] as const) {
      for (const locale of LOCALES) expect(translate(locale, `backups.compare.${change}`)).not.toMatch(/^backups\./);
    }
  });
});

describe('snapshots', () => {
  const snap = (id: string, time: string): SnapshotSummary => ({ id, time, host: 'h', lifelineVersion: '0.1.0', files: 1, bytes: 1, knowledgeBases: [] });

  it('lists the newest first', () => {
    const sorted = sortSnapshots([snap('a', '2025-01-01T00:00:00Z'), snap('c', '2025-03-01T00:00:00Z'), snap('b', '2025-02-01T00:00:00Z')]);
    expect(sorted.map((s) => s.id)).toEqual(['c', 'b', 'a']);
  });

  it('shortens long hash ids only', () => {
    expect(shortId('0123456789abcdef0123')).toBe('01234567');
    expect(shortId('2025-01-01-a')).toBe('2025-01-01-a');
  });
});

describe('backup screen texts', () => {
  it('has a message for every operation and running state', () => {
    const zh = dictionaries['zh-CN'] as Record<string, string>;
    for (const op of ['init', 'run', 'snapshots', 'verify', 'verify-sample', 'restore']) {
      expect(zh[`backups.op.${op}`], op).toBeTruthy();
      expect(zh[`backups.running.${op}`], op).toBeTruthy();
    }
    expect(zh['backups.op.cancel']).toBeTruthy();
  });

  it('warns in both languages that a lost passphrase makes the backups unreadable by anyone', () => {
    expect(translate('en', 'backups.pass.lostWarning')).toMatch(/nobody/i);
    expect(translate('zh-CN', 'backups.pass.lostWarning')).toMatch(/任何人/);
  });

  it('says the restore is staged and checked first, and the previous data kept for a roll back', () => {
    expect(translate('en', 'backups.restore.step1')).toMatch(/staging/);
    expect(translate('en', 'backups.restore.step3')).toMatch(/Roll back/);
    expect(translate('zh-CN', 'backups.restore.step1')).toMatch(/检查/);
    expect(translate('zh-CN', 'backups.restore.step3')).toMatch(/回滚/);
  });

  it('words the server error with the operation it came from', () => {
    expect(translate('en', 'backups.error', { op: translate('en', 'backups.op.run'), message: 'wrong passphrase' })).toBe('The backup failed: wrong passphrase');
    expect(translate('zh-CN', 'backups.error', { op: translate('zh-CN', 'backups.op.run'), message: '口令错误' })).toBe('备份失败：口令错误');
  });
});
