/** The control block shared by nativeThreads.ts (main thread) and nativeWorker.ts (one per worker). */

/** Int32 slots of one worker's control block. */
export const CTL = { seq: 0, done: 1, error: 2, pass: 3, args: 4 } as const;
export const CTL_INTS = 16;

/** Exports a worker may run, by index (all take five int32 arguments). */
export const PASSES = ['conv_forward', 'conv_backprop_filter', 'conv_backprop_input', 'conv_winograd',
  'conv_winograd_filter_grad', 'winograd_filter_range', 'pool2d'] as const;
export type Pass = (typeof PASSES)[number];

export interface WorkerData {
  readonly bytes: Uint8Array;
  /** The module's shared WebAssembly.Memory. */
  readonly memory: object;
  readonly control: SharedArrayBuffer;
  /** Initial __stack_pointer of this worker's instance: its own shadow stack. */
  readonly stackTop: number;
}
