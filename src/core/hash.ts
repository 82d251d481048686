import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal configs serialise (and hash) equally. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** Short, stable content hash of a JSON-able value (first `length` hex digits of its sha256). */
export function configHash(value: unknown, length = 12): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, length);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
