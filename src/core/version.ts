import { readFileSync } from 'node:fs';

/** medsyn's version, from package.json (recorded in every manifest and run). */
export const MEDSYN_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
