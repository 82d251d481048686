/**
 * A worker thread of the native kernel module (see nativeThreads.ts): it instantiates the same
 * .wasm on the shared memory, then runs one job per bump of the control block's sequence number.
 * Blocking on Atomics.wait keeps a job's start latency at tens of microseconds (postMessage: ~0.1 ms).
 */
import { workerData } from 'node:worker_threads';
import { CTL, PASSES, type WorkerData } from './nativeThreadsProtocol.js';

const { bytes, memory, control, stackTop } = workerData as WorkerData;
const WA = (globalThis as unknown as {
  WebAssembly: { Instance: new (m: object, i: object) => { exports: object }; Module: new (b: Uint8Array) => object };
}).WebAssembly;
const instance = new WA.Instance(new WA.Module(bytes), { env: { memory } });
const exports = instance.exports as Record<string, (...args: number[]) => void>;
(instance.exports as { __stack_pointer: { value: number } }).__stack_pointer.value = stackTop; // its own stack
const ctl = new Int32Array(control);

let seen = 0;
for (;;) {
  Atomics.wait(ctl, CTL.seq, seen);
  seen = Atomics.load(ctl, CTL.seq);
  try {
    const pass = PASSES[ctl[CTL.pass]!]!;
    exports[pass]!(ctl[CTL.args]!, ctl[CTL.args + 1]!, ctl[CTL.args + 2]!, ctl[CTL.args + 3]!, ctl[CTL.args + 4]!);
    Atomics.store(ctl, CTL.error, 0);
  } catch {
    Atomics.store(ctl, CTL.error, 1);
  }
  Atomics.store(ctl, CTL.done, seen);
  Atomics.notify(ctl, CTL.done);
}
