import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import { DataError } from '../../src/core/errors.js';
import { buildDiscriminator, buildGenerator } from '../../src/models/dcgan.js';
import { ACTIVATION_KINDS } from '../../src/models/layers/activation.js';
import { NORM_KINDS } from '../../src/models/layers/norm.js';
import type { ChannelLayout } from '../../src/gan/augment.js';
import { parseSetOverrides, resolveGanConfig, type ResolvedGanConfig } from '../../src/gan/config.js';
import { buildObjective, type GanBatch, type GanObjective } from '../../src/gan/objective.js';
import { GAN_VARIANT_IDS } from '../../src/gan/variants.js';

await initEngine({ backend: 'cpu', log: () => {} });

const SIZE = 16;
const LAYOUT: ChannelLayout = { imageChannels: 1, numClasses: 2 };
const SMALL = ['g.filters=2', 'd.filters=2', 'latentDim=8', 'batchSize=2'];

function setup(cfg: ResolvedGanConfig, seed = 1) {
  const rng = new Rng(seed);
  const shape = [SIZE, SIZE, LAYOUT.imageChannels + LAYOUT.numClasses] as const;
  const generator = buildGenerator(cfg, shape, rng.fork('g'));
  const discriminator = buildDiscriminator(cfg, shape, rng.fork('d'));
  const objective = buildObjective(cfg, { generator, discriminator, layout: LAYOUT }, undefined, rng.fork('objective'));
  const batch: GanBatch = {
    real: tf.randomUniform([2, SIZE, SIZE, 3], -1, 1, 'float32', seed) as tf.Tensor4D,
    latents: tf.randomNormal([2, 8], 0, 1, 'float32', seed + 1) as tf.Tensor2D,
  };
  const dispose = () => {
    tf.dispose([batch.real, batch.latents]);
    generator.dispose();
    discriminator.dispose();
    objective.dispose();
  };
  return { generator, discriminator, objective, batch, dispose };
}

function snapshot(vars: Iterable<tf.Variable>): number[][] {
  return [...vars].map((v) => Array.from(v.dataSync()));
}

/** One D step and one G step with plain SGD, as the training loop does them; returns the loss values and term names. */
function step(objective: GanObjective, batch: GanBatch, dVars: tf.Variable[], gVars: tf.Variable[]) {
  const sgd = tf.train.sgd(0.01);
  let dTerms: string[] = [];
  const d = tf.variableGrads(() => {
    const out = objective.discriminatorLoss(batch);
    dTerms = Object.keys(out.terms);
    const sum = Object.values(out.terms).reduce((s, t) => s + t.dataSync()[0]!, 0);
    assert.ok(Math.abs(sum - out.total.dataSync()[0]!) < 1e-4 * Math.max(1, Math.abs(sum)), 'total = Σ terms');
    return out.total;
  }, dVars);
  assert.deepEqual(Object.keys(d.grads).sort(), dVars.map((v) => v.name).sort(), 'gradients for exactly the D variables');
  assert.ok(Object.values(d.grads).every((g) => g.dataSync().every(Number.isFinite)), 'finite D grads');
  sgd.applyGradients(d.grads);
  objective.afterDiscriminatorUpdate();
  let gTerms: string[] = [];
  const g = tf.variableGrads(() => {
    const out = objective.generatorLoss(batch);
    gTerms = Object.keys(out.terms);
    return out.total;
  }, gVars);
  assert.ok(Object.values(g.grads).every((gr) => gr.dataSync().every(Number.isFinite)), 'finite G grads');
  assert.ok(Object.values(g.grads).some((gr) => gr.dataSync().some((v) => v !== 0)), 'G gets a gradient');
  sgd.applyGradients(g.grads);
  const values = [d.value.dataSync()[0]!, g.value.dataSync()[0]!];
  tf.dispose([d.value, d.grads, g.value, g.grads]);
  sgd.dispose();
  return { values, dTerms, gTerms };
}

test('every variant: finite losses, expected terms, updates only the networks asked for, no tensor leak', () => {
  const expectedTerms: Record<string, string[]> = {
    dcgan: ['adversarial'], lsgan: ['adversarial'], wgan: ['adversarial'], 'wgan-gp': ['adversarial', 'gradient-penalty'], hinge: ['adversarial'],
  };
  for (const id of GAN_VARIANT_IDS) {
    const cfg = resolveGanConfig(id, parseSetOverrides(SMALL));
    const { generator, discriminator, objective, batch, dispose } = setup(cfg);
    assert.equal(objective.criticSteps, cfg.nCritic);
    const dVars = [...discriminator.params.values()];
    const gVars = [...generator.params.values()];
    const gBefore = snapshot(gVars);
    // A D-only step leaves G alone.
    const d = tf.variableGrads(() => objective.discriminatorLoss(batch).total, dVars);
    const sgd = tf.train.sgd(0.1);
    sgd.applyGradients(d.grads);
    tf.dispose([d.value, d.grads]);
    sgd.dispose();
    assert.deepEqual(snapshot(gVars), gBefore, `${id}: a D step leaves G's weights untouched`);

    const first = step(objective, batch, dVars, gVars);
    assert.deepEqual(first.dTerms, expectedTerms[id], id);
    assert.deepEqual(first.gTerms, ['adversarial']);
    assert.ok(first.values.every(Number.isFinite), `${id}: ${first.values}`);
    const before = tf.memory().numTensors;
    step(objective, batch, dVars, gVars);
    assert.equal(tf.memory().numTensors, before, `${id}: a D+G step leaks no tensors`);
    if (id === 'wgan') {
      assert.ok(dVars.every((v) => v.dataSync().every((x) => Math.abs(x) <= 0.01 + 1e-7)), 'critic weights clipped to ±0.01');
    }
    dispose();
  }
});

test('optional terms: R1, label smoothing, DiffAugment, feature matching; scores are reported', () => {
  const cfg = resolveGanConfig('dcgan', parseSetOverrides([
    ...SMALL, 'r1Gamma=1', 'labelSmoothing=true', 'diffAugment=color,translation,cutout', 'featureMatchingWeight=1', 'classicAugment=true',
  ]));
  const { generator, discriminator, objective, batch, dispose } = setup(cfg);
  const r = step(objective, batch, [...discriminator.params.values()], [...generator.params.values()]);
  assert.deepEqual(r.dTerms, ['adversarial', 'r1']);
  assert.deepEqual(r.gTerms, ['adversarial', 'feature-matching']);
  tf.tidy(() => {
    const out = objective.discriminatorLoss(batch);
    assert.deepEqual(Object.keys(out.scores), ['real', 'fake']);
  });
  dispose();
});

test('same seed ⇒ same losses (augmentation and interpolation are seeded)', () => {
  const cfg = resolveGanConfig('wgan-gp', parseSetOverrides([...SMALL, 'diffAugment=true']));
  const run = () => {
    const s = setup(cfg, 3);
    const v = tf.tidy(() => [s.objective.discriminatorLoss(s.batch).total.dataSync()[0]!, s.objective.generatorLoss(s.batch).total.dataSync()[0]!]);
    s.dispose();
    return v;
  };
  assert.deepEqual(run(), run());
});

test('the gradient penalty is differentiable through every discriminator architecture', () => {
  for (const activation of ACTIVATION_KINDS) {
    for (const norm of NORM_KINDS) {
      for (const spectralNorm of [false, true]) {
        const cfg = resolveGanConfig('wgan-gp', {
          ...parseSetOverrides(SMALL), 'd.activation': activation, 'd.norm': norm, 'd.spectralNorm': spectralNorm,
        });
        const { discriminator, objective, batch, dispose } = setup(cfg);
        const dVars = [...discriminator.params.values()];
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => objective.discriminatorLoss(batch).terms['gradient-penalty']!, dVars);
          const all = Object.values(grads).map((g) => g.dataSync());
          assert.ok(all.every((g) => g.every(Number.isFinite)), `${activation}/${norm}/sn=${spectralNorm}: finite`);
          assert.ok(all.some((g) => g.some((v) => v !== 0)), `${activation}/${norm}/sn=${spectralNorm}: nonzero`);
        });
        assert.equal(tf.memory().numTensors, before);
        dispose();
      }
    }
  }
});

test('a perceptual weight without a weights file fails when the objective is built, naming the file', () => {
  const cfg = resolveGanConfig('dcgan', parseSetOverrides([...SMALL, 'perceptual.weight=1', 'perceptual.weightsPath=/nonexistent/vgg16.safetensors']));
  assert.throws(() => setup(cfg), (err: unknown) => err instanceof DataError && /\/nonexistent\/vgg16\.safetensors/.test(err.message));
});
