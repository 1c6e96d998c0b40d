// Dictionaries and the pure translation helper. The React hook lives in store/app.ts (useT).
import { en } from './en.js';
import { zhCN, type MessageKey, type Messages } from './zh-CN.js';
import type { Locale } from '../../electron/api/contract.js';

export type { MessageKey, Messages };
export type Params = Readonly<Record<string, string | number>>;

export const DEFAULT_LOCALE: Locale = 'zh-CN';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
export const dictionaries: Readonly<Record<Locale, Messages>> = { 'zh-CN': zhCN, en };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** Replaces {name} placeholders; an unknown placeholder is left as written. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  return interpolate(dictionaries[locale][key] ?? zhCN[key], params);
}

export type Translate = (key: MessageKey, params?: Params) => string;
