/**
 * `medsyn study run|resume|status|report` and `medsyn demo` (the demo study on the built-in phantoms, what
 * `npm start` runs). Thin: the runner (src/study/runner.ts) does the work.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStudy } from '../study/config.js';
import { LAYOUT } from '../study/plan.js';
import { writeStudyReport } from '../study/report.js';
import { runStudy, storedStudy } from '../study/runner.js';
import { formatStatus, studyStatus } from '../study/status.js';
import { StudyStore } from '../study/store.js';
import { collect, intOption } from './options.js';

/** The demo study shipped with medsyn (resolved from the package, so `npx medsyn demo` works from any folder). */
export const DEMO_STUDY = fileURLToPath(new URL('../../../studies/demo.json', import.meta.url));

interface RunOpts { out?: string; set?: string[]; dataDir?: string; workers?: number; retryFailed?: boolean; report: boolean }

async function run(file: string, o: RunOpts, defaultOut: (name: string) => string): Promise<void> {
  const study = loadStudy(file, o.set ?? [], o.dataDir ? { dataDir: o.dataDir } : {});
  const r = await runStudy({
    study, out: o.out ?? defaultOut(study.name), report: o.report,
    ...(o.workers !== undefined ? { workers: o.workers } : {}), ...(o.retryFailed ? { retryFailed: true } : {}),
  });
  if (r.counts.failed > 0) console.error(`${r.counts.failed} job(s) failed: \`medsyn study status ${r.out}\` lists them`);
  // the report's path is the last line of output
  console.log(r.report ?? r.out);
}

function runOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'worker processes (default: the study\'s "workers", else one per core)', intOption('--workers', 1, 1024))
    .option('--retry-failed', 'run failed jobs again (by default they stay failed)')
    .option('--no-report', 'do not write the report at the end');
}

export function registerStudyCommands(program: Command): void {
  const study = program.command('study').description('run a whole study: sweep GANs, score them, train U-Nets on their data, write the report');

  runOptions(study.command('run')
    .description('run (or continue) a study file; finished jobs whose inputs did not change are kept')
    .argument('<file>', 'study file (JSON; see studies/)')
    .option('--out <dir>', 'study folder (default: medsyn-studies/<name>)')
    .option('--data-dir <dir>', 'folder the study\'s relative dataset roots are in (default: the study file\'s folder), e.g. one holding ACDC/, SLiver07/, IDRiD/')
    .option('--set <key=value>', 'override a study field, e.g. training.kimg=4 or search.space.d.filters=16,32 (repeatable)', collect))
    .action(async (file: string, o: RunOpts) => {
      await run(file, o, (name) => path.join('medsyn-studies', name));
    });

  runOptions(study.command('resume')
    .description('continue a study that stopped (killed, crashed, Ctrl-C) with the study it was started with')
    .argument('<dir>', 'study folder'))
    .action(async (dir: string, o: RunOpts) => {
      const store = StudyStore.open(path.join(dir, LAYOUT.store));
      let resolved;
      try {
        resolved = storedStudy(store);
      } finally {
        store.close();
      }
      const r = await runStudy({
        study: resolved, out: dir, report: o.report,
        ...(o.workers !== undefined ? { workers: o.workers } : {}), ...(o.retryFailed ? { retryFailed: true } : {}),
      });
      console.log(r.report ?? r.out);
    });

  study.command('status')
    .description('jobs done / running / failed and the best trial so far per dataset and GAN')
    .argument('<dir>', 'study folder')
    .option('--json', 'print JSON')
    .action((dir: string, o: { json?: boolean }) => {
      const store = StudyStore.open(path.join(dir, LAYOUT.store), { readonly: true });
      try {
        const s = studyStatus(store);
        if (o.json) console.log(JSON.stringify(s, null, 2));
        else for (const line of formatStatus(s)) console.log(line);
      } finally {
        store.close();
      }
    });

  study.command('report')
    .description('(re)write the study report from the store: report/index.html, report.md, table2.csv, trials.csv')
    .argument('<dir>', 'study folder')
    .action(async (dir: string) => {
      const store = StudyStore.open(path.join(dir, LAYOUT.store), { readonly: true });
      try {
        console.log(await writeStudyReport(store, path.resolve(dir)));
      } finally {
        store.close();
      }
    });

  runOptions(program.command('demo')
    .description('run the demo study (studies/demo.json) on the built-in phantoms: all three modalities, all five GANs, a small sweep, the report')
    .option('--out <dir>', 'study folder', 'medsyn-demo')
    .option('--set <key=value>', 'override a field of the demo study, e.g. training.kimg=1 (repeatable)', collect))
    .action(async (o: RunOpts) => {
      await run(DEMO_STUDY, o, () => 'medsyn-demo');
    });
}
