// The translation hook: components call `const t = useT()` and re-render when the language changes.
import { useCallback } from 'react';
import { useApp } from '../store/app.js';
import { translate, type Translate } from './index.js';

export function useT(): Translate {
  const locale = useApp((s) => s.locale);
  return useCallback<Translate>((key, params) => translate(locale, key, params), [locale]);
}
