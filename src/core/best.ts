/**
 * Which run is "the best" of a sweep, one rule for the study runner (which trains U-Nets on its samples) and the
 * report (which shows it), so the two can never disagree.
 *
 * Items are runs — a configuration × a seed — grouped by configuration. With one seed per configuration the best
 * run is the one with the best value (ties: the smaller id). With several seeds a single lucky seed must not win:
 * the configuration with the best mean over its seeds wins, and its run closest to that mean represents it
 * (ties: the smaller id). Non-finite values are ignored.
 */
export interface Scored {
  readonly id: string;
  /** The configuration; runs of one configuration with different seeds share it. */
  readonly group: string;
  readonly value: number;
}

export interface BestPick {
  readonly id: string;
  readonly group: string;
  readonly value: number;
  /** Mean and sample standard deviation of the group's values, and how many runs it has (seeds). */
  readonly groupMean: number;
  readonly groupSd: number;
  readonly groupSize: number;
}

export function pickBest(items: readonly Scored[], direction: 'min' | 'max'): BestPick | null {
  const groups = new Map<string, Scored[]>();
  for (const it of items) {
    if (!Number.isFinite(it.value)) continue;
    const list = groups.get(it.group);
    if (list) list.push(it);
    else groups.set(it.group, [it]);
  }
  const better = (a: number, b: number): boolean => (direction === 'max' ? a > b : a < b);
  let best: BestPick | null = null;
  let bestKey = '';
  for (const [group, runs] of groups) {
    const mean = runs.reduce((s, r) => s + r.value, 0) / runs.length;
    const sd = runs.length > 1 ? Math.sqrt(runs.reduce((s, r) => s + (r.value - mean) ** 2, 0) / (runs.length - 1)) : 0;
    let rep = runs[0]!;
    for (const r of runs) {
      const d = Math.abs(r.value - mean), dr = Math.abs(rep.value - mean);
      if (d < dr || (d === dr && r.id < rep.id)) rep = r;
    }
    const key = runs.map((r) => r.id).sort()[0]!;
    if (!best || better(mean, best.groupMean) || (mean === best.groupMean && key < bestKey)) {
      best = { id: rep.id, group, value: rep.value, groupMean: mean, groupSd: sd, groupSize: runs.length };
      bestKey = key;
    }
  }
  return best;
}
