// `node --import ./register.mjs child.ts`: installs ts-hooks.mjs in the child process.
import { register } from 'node:module';
register('./ts-hooks.mjs', import.meta.url);
