// The access token of the browser console: `lifeline serve` prints http://127.0.0.1:PORT/#token=…
// Pure helpers; bridge.ts does the storage and the URL clean-up.

export const TOKEN_STORAGE_KEY = 'lifeline.token';

/** The token in a location hash ("#token=abc" or "#a=1&token=abc"), or null. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token')?.trim();
  return token ? token : null;
}

/** The hash once the token is removed ("" when nothing else was in it). */
export function hashWithoutToken(hash: string): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  params.delete('token');
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}
