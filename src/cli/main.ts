/**
 * The `medsyn` command line: parses arguments and calls the programmatic API. No logic lives here.
 * Every command has --help; errors a user can act on print their message alone and exit 1.
 */
import { Command, CommanderError } from 'commander';
import { MedsynError } from '../core/errors.js';
import { registerDataCommands } from './data.js';
import { registerGanCommands } from './gan.js';
import { registerSegmentCommand } from './segment.js';
import { registerStudyCommands } from './study.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerMetricsCommand } from './metrics.js';
import { registerWeightsCommand } from './weights.js';
import { MEDSYN_VERSION } from '../core/version.js';

export function buildProgram(): Command {
  const program = new Command('medsyn')
    .description('Is GAN-generated data worth anything for my medical-imaging task? Train, score and test GANs on image+mask data.')
    .version(MEDSYN_VERSION)
    .option('--backend <name>', 'tensor backend: auto | wasm | cpu | tensorflow (tensorflow needs @tensorflow/tfjs-node installed)', 'auto')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (cmd) => {
      // The engine reads MEDSYN_BACKEND when a command first calls initEngine().
      const backend = cmd.opts<{ backend?: string }>().backend;
      if (backend && backend !== 'auto') process.env.MEDSYN_BACKEND = backend;
    });
  registerDataCommands(program);
  registerGanCommands(program);
  registerSegmentCommand(program);
  registerEvaluateCommand(program);
  registerMetricsCommand(program);
  registerWeightsCommand(program);
  registerStudyCommands(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0; // a command may set it (e.g. weights --check)
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof MedsynError) {
      console.error(`medsyn: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
