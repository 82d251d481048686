/** `medsyn weights`: which pretrained weight files are present, where to get the missing ones, sha256 checks. */
import type { Command } from 'commander';
import { weightsDir, weightsReport, weightsStatus } from '../metrics/weights.js';

export function registerWeightsCommand(program: Command): void {
  program
    .command('weights')
    .description('list the pretrained weight files medsyn can use (Inception-v3 for FID), check their sha256, say where to get missing ones')
    .option('--dir <dir>', 'weights folder (default: $MEDSYN_WEIGHTS_DIR or ~/.cache/medsyn/weights)')
    .option('--check', 'exit with code 1 unless every file is present with the right sha256')
    .action((o: { dir?: string; check?: boolean }) => {
      const dir = o.dir ?? weightsDir();
      for (const line of weightsReport(dir)) console.log(line);
      if (o.check && weightsStatus(dir).some((s) => s.state !== 'present')) process.exitCode = 1;
    });
}
