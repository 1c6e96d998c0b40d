import { describe, expect, it } from 'vitest';
import { dictionaries, interpolate, translate, DEFAULT_LOCALE, isLocale } from '../../renderer/i18n/index.js';
import { SCREENS } from '../../renderer/lib/screens.js';

describe('console translations', () => {
  const zh = dictionaries['zh-CN'];
  const en = dictionaries.en;

  it('Chinese and English have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
  });

  it('no message is empty in either language', () => {
    for (const dict of [zh, en]) {
      for (const [key, text] of Object.entries(dict)) expect(text.trim(), key).not.toBe('');
    }
  });

  it('each message uses the same placeholders in both languages', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(placeholders(en[key]), key).toEqual(placeholders(zh[key]));
    }
  });

  it('every navigation screen has a label, the Chatchat rescue among them', () => {
    expect(SCREENS).toContain('chatchat');
    expect(translate('en', 'nav.chatchat')).toBe('Chatchat rescue');
    expect(translate('zh-CN', 'nav.chatchat')).toBe('Chatchat 救援');
    for (const screen of SCREENS) {
      expect(Object.keys(zh)).toContain(`nav.${screen}`);
    }
  });

  it('Chinese is the default language', () => {
    expect(DEFAULT_LOCALE).toBe('zh-CN');
    expect(translate('zh-CN', 'nav.ask')).toBe('问答');
    expect(translate('en', 'nav.ask')).toBe('Ask');
  });

  it('fills placeholders and leaves unknown ones as written', () => {
    expect(translate('en', 'ask.took', { took: '12 ms' })).toBe('took 12 ms');
    expect(interpolate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
    expect(interpolate('no params')).toBe('no params');
  });

  it('recognises only the supported locales', () => {
    expect(isLocale('en')).toBe(true);
    expect(isLocale('zh-CN')).toBe(true);
    expect(isLocale('fr')).toBe(false);
    expect(isLocale(null)).toBe(false);
  });
});
