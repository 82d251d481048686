/** MEDSYN_THREADS: the native kernels' thread count, and how the study runner shares cores among workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { THREADS_ENV_VAR, threadCount } from '../../src/core/kernels/nativeThreads.js';
import { threadsPerWorker } from '../../src/study/runner.js';

function withEnv<T>(value: string | undefined, f: () => T): T {
  const saved = process.env[THREADS_ENV_VAR];
  if (value === undefined) delete process.env[THREADS_ENV_VAR];
  else process.env[THREADS_ENV_VAR] = value;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env[THREADS_ENV_VAR];
    else process.env[THREADS_ENV_VAR] = saved;
  }
}

test('unset, the native kernels use every core; a number is capped at the cores', () => {
  const cores = os.availableParallelism();
  assert.equal(withEnv(undefined, threadCount), cores);
  assert.equal(withEnv('', threadCount), cores);
  assert.equal(withEnv('1', threadCount), 1);
  assert.equal(withEnv(String(cores + 7), threadCount), cores);
});

test('garbage is an error that names the variable', () => {
  for (const bad of ['0', '-2', '1.5', 'two']) {
    assert.throws(() => withEnv(bad, threadCount), new RegExp(`${THREADS_ENV_VAR}=${bad}: expected a positive integer`));
  }
});

test('study workers share the cores: processes × threads stays at the core count; a user setting wins', () => {
  assert.equal(threadsPerWorker(2, {}, 2), '1');
  assert.equal(threadsPerWorker(1, {}, 2), '2');
  assert.equal(threadsPerWorker(3, {}, 16), '5');
  assert.equal(threadsPerWorker(8, {}, 2), '1');
  assert.equal(threadsPerWorker(2, { [THREADS_ENV_VAR]: '4' }, 2), '4');
});
