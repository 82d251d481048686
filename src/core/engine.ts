/**
 * The tensor engine: the one module that imports a TF.js backend and chooses it.
 * Everyone else imports `tf` from here and calls `initEngine()` once before using it.
 *
 * Backends, best first: 'tensorflow' (@tensorflow/tfjs-node, native; optional and not a
 * dependency, detected at run time), 'wasm' (XNNPACK, SIMD), 'cpu' (plain JS, slow).
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { registerCustomKernels } from './kernels/index.js';
import { nativeKernels } from './kernels/nativeModule.js';

export { tf };

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface EngineInfo {
  readonly backend: BackendName;
  readonly tfjsVersion: string;
  readonly wasmSimd?: boolean;
  readonly wasmThreads?: number;
  /** Threads of medsyn's native conv kernels (MEDSYN_THREADS; 0: module disabled or missing). */
  readonly nativeThreads?: number;
  /** Whether the native kernels are the relaxed-SIMD build (fused multiply-add); absent when they are off. */
  readonly nativeRelaxedSimd?: boolean;
  /** Why this backend: "auto: …" or "requested …". */
  readonly reason: string;
}

export interface InitEngineOptions {
  /** Explicit choice (the CLI's --backend); 'auto' or absent defers to MEDSYN_BACKEND, then auto. */
  backend?: BackendName | 'auto';
  /** Where the one-line summary goes (default console.error). */
  log?: (line: string) => void;
}

const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
const TFJS_NODE = '@tensorflow/tfjs-node';
const ENV_VAR = 'MEDSYN_BACKEND';
const TFJS_VERSION = tf.version_core;

let current: EngineInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();

silenceNodeBanner();

/**
 * Chooses, initialises and returns the backend, and registers the custom kernels.
 * Idempotent: a second call returns the current engine unless it asks for another backend.
 */
export function initEngine(opts: InitEngineOptions = {}): Promise<EngineInfo> {
  const next = queue.then(() => init(opts));
  queue = next.catch(() => undefined);
  return next;
}

/** The current engine; throws before `initEngine()`. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error('engine not initialised: call initEngine() first');
  return current;
}

async function init({ backend, log = console.error }: InitEngineOptions): Promise<EngineInfo> {
  const request = requestedBackend(backend);
  if (current && (request.backend === 'auto' || request.backend === current.backend)) return current;
  const info = request.backend === 'auto'
    ? await chooseAuto()
    : await activate(request.backend, `requested via ${request.source}`);
  registerCustomKernels();
  current = info;
  log(summary(info));
  return info;
}

function requestedBackend(option: string | undefined): { backend: BackendName | 'auto'; source: string } {
  const fromOptions = option !== undefined && option !== 'auto';
  const value = fromOptions ? option : process.env[ENV_VAR]?.trim().toLowerCase();
  if (!value || value === 'auto') return { backend: 'auto', source: 'auto' };
  const setting = fromOptions ? `backend '${value}'` : `${ENV_VAR}=${value}`;
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`${setting}: expected one of auto, ${BACKENDS.join(', ')}`);
  }
  return { backend: value as BackendName, source: fromOptions ? 'options' : setting };
}

/** 'tensorflow' when @tensorflow/tfjs-node is installed, else 'wasm', else 'cpu'. */
async function chooseAuto(): Promise<EngineInfo> {
  let why: string;
  if (tfjsNodeInstalled()) {
    try {
      return await activate('tensorflow', `auto: ${TFJS_NODE} installed`);
    } catch (err) {
      why = `${TFJS_NODE} failed: ${message(err)}`;
    }
  } else {
    why = `${TFJS_NODE} not installed`;
  }
  try {
    return await activate('wasm', `auto: ${why}`);
  } catch (err) {
    return activate('cpu', `auto: ${why}; wasm failed: ${message(err)}`);
  }
}

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(TFJS_NODE);
    return true;
  } catch {
    return false;
  }
}

/** Loads (if needed) and switches to `backend`; throws when it cannot. */
async function activate(backend: BackendName, reason: string): Promise<EngineInfo> {
  switch (backend) {
    case 'tensorflow': {
      if (!tfjsNodeInstalled()) {
        throw new Error(`backend 'tensorflow' needs ${TFJS_NODE}, which is not installed`);
      }
      await import(TFJS_NODE);
      if (!tf.engine().registryFactory.tensorflow) {
        throw new Error(`${TFJS_NODE} registered its backend with another copy of @tensorflow/tfjs-core`);
      }
      await switchTo('tensorflow');
      return { backend, tfjsVersion: TFJS_VERSION, reason };
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      await switchTo('wasm');
      return {
        backend,
        tfjsVersion: TFJS_VERSION,
        wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean,
        wasmThreads: wasm.getThreadsCount(),
        nativeThreads: nativeKernels()?.threads ?? 0,
        ...(nativeKernels() ? { nativeRelaxedSimd: nativeKernels()!.relaxed } : {}),
        reason,
      };
    }
    case 'cpu':
      await switchTo('cpu');
      return { backend, tfjsVersion: TFJS_VERSION, reason };
  }
}

async function switchTo(backend: BackendName): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend '${backend}' failed to initialise`);
  await tf.ready();
}

/** e.g. "engine: wasm (TF.js 4.22.0, SIMD on) — auto: @tensorflow/tfjs-node not installed" */
function summary(info: EngineInfo): string {
  const details = [`TF.js ${info.tfjsVersion}`];
  if (info.wasmSimd !== undefined) details.push(`SIMD ${info.wasmSimd ? 'on' : 'off'}`);
  if (info.wasmThreads !== undefined && info.wasmThreads > 1) details.push(`${info.wasmThreads} threads`);
  if (info.nativeThreads !== undefined) {
    const fma = info.nativeRelaxedSimd ? ' (relaxed SIMD)' : '';
    details.push(info.nativeThreads ? `native kernels${fma} on ${info.nativeThreads} thread${info.nativeThreads > 1 ? 's' : ''}` : 'native kernels off');
  }
  return `engine: ${info.backend} (${details.join(', ')}) — ${info.reason}`;
}

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on its
 * first tensor (tfjs-backend-cpu's `MathBackendCPU.write` while its `firstUse` is true). The
 * engine re-creates backend instances from their factory (e.g. on first use before
 * initEngine()), so the cpu factory is wrapped to clear that flag on every instance.
 * (The PROD flag would also hide the banner, but silences every TF.js warning.)
 */
function silenceNodeBanner(): void {
  const quiet = <T>(backend: T): T => {
    if (backend && typeof backend === 'object' && 'firstUse' in backend) backend.firstUse = false;
    return backend;
  };
  const entry = tf.engine().registryFactory.cpu;
  if (!entry) return;
  const factory = entry.factory;
  entry.factory = () => quiet(factory());
  quiet(tf.engine().registry.cpu);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
