/**
 * Errors a user can act on. Each names what is wrong, where (file or option), and how to fix it;
 * the CLI prints `message` alone (no stack) and exits non-zero.
 */
export class MedsynError extends Error {
  override readonly name: string = 'MedsynError';
}

/** A file or folder of input data is missing, unreadable, or inconsistent. */
export class DataError extends MedsynError {
  override readonly name = 'DataError';
  constructor(readonly file: string, problem: string, fix?: string) {
    super(`${file}: ${problem}${fix ? `\n  fix: ${fix}` : ''}`);
  }
}

/** A configuration value or combination is invalid. */
export class ConfigError extends MedsynError {
  override readonly name = 'ConfigError';
}

export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
