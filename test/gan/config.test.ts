import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import {
  GAN_CONFIG_KEYS, GanConfigSchema, parseGanConfig, parseSetOverrides, resolveGanConfig, type ResolvedGanConfig,
} from '../../src/gan/config.js';
import { GAN_VARIANTS, GAN_VARIANT_IDS } from '../../src/gan/variants.js';
import type { DcganConfig } from '../../src/models/dcgan.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('every preset resolves, carries its paper defaults, and is deep-frozen', () => {
  for (const id of GAN_VARIANT_IDS) {
    const cfg = resolveGanConfig(id);
    assert.equal(cfg.variant, id);
    assert.equal(cfg.loss, GAN_VARIANTS[id].loss);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.d) && Object.isFrozen(cfg.betas));
    const backbone: DcganConfig = cfg; // the resolved config is what the backbone reads
    assert.equal(backbone.latentDim, 128);
  }
  const wgan = resolveGanConfig('wgan');
  assert.ok(wgan.loss === 'wasserstein' && wgan.weightClip === 0.01 && wgan.gpWeight === 0 && wgan.nCritic === 5);
  const gp = resolveGanConfig('wgan-gp');
  assert.ok(gp.loss === 'wasserstein' && gp.gpWeight === 10 && gp.weightClip === 0);
  assert.deepEqual(gp.betas, [0, 0.9]);
  assert.equal(gp.d.norm, 'instance');
  const dcgan = resolveGanConfig('dcgan');
  assert.ok(dcgan.loss === 'non-saturating' && dcgan.labelSmoothing === 0);
  assert.deepEqual(dcgan.init, { kind: 'normal', gain: 0.02 });
  assert.equal(dcgan.emaHalfLifeKimg, null);
});

test('parseSetOverrides coerces per key', () => {
  assert.deepEqual(parseSetOverrides(['d.filters=64', 'diffAugment=color,translation']), { 'd.filters': 64, diffAugment: ['color', 'translation'] });
  assert.deepEqual(parseSetOverrides([
    'g.spectralNorm=true', 'labelSmoothing=true', 'betas=0,0.9', 'emaHalfLifeKimg=none', 'lr=1e-4', 'diffAugment=true', 'perceptual.layers=relu2_2,relu3_3',
  ]), {
    'g.spectralNorm': true, labelSmoothing: 0.1, betas: [0, 0.9], emaHalfLifeKimg: null, 'lr.d': 1e-4, 'lr.g': 1e-4,
    diffAugment: ['color', 'translation', 'cutout'], 'perceptual.layers': ['relu2_2', 'relu3_3'],
  });
  assert.deepEqual(parseSetOverrides(['diffAugment=none', 'classicAugment=no']), { diffAugment: [], classicAugment: false });
  rejects(() => parseSetOverrides(['d.filter=64']), /unknown GAN config key 'd\.filter' \(did you mean 'd\.filters'\?\)\. Valid keys: loss, labelSmoothing, .*d\.filters/);
  rejects(() => parseSetOverrides(['d.filters=many']), /d\.filters=many: expected a number/);
  rejects(() => parseSetOverrides(['nCritic=2.5']), /nCritic=2\.5: expected an integer/);
  rejects(() => parseSetOverrides(['g.spectralNorm=maybe']), /expected true or false/);
  rejects(() => parseSetOverrides(['d.filters']), /--set expects key=value/);
});

test('overrides merge over the preset, nested or dotted', () => {
  const cfg = resolveGanConfig('wgan-gp', { ...parseSetOverrides(['d.filters=32', 'init.kind=kaiming']), g: { activation: 'selu' }, lr: { g: 2e-4 } });
  assert.equal(cfg.d.filters, 32);
  assert.equal(cfg.d.norm, 'instance', 'preset value kept');
  assert.equal(cfg.g.activation, 'selu');
  assert.deepEqual(cfg.lr, { d: 1e-4, g: 2e-4 });
  assert.deepEqual(cfg.init, { kind: 'kaiming', gain: 0.02 });
  // String values from elsewhere are coerced too.
  assert.equal(resolveGanConfig('dcgan', { 'g.filters': '16' }).g.filters, 16);
});

test('loss-specific options: rejected where they do not apply, dropped when they came from the preset', () => {
  rejects(() => resolveGanConfig('dcgan', { weightClip: 0.01 }), /weightClip applies only to loss 'wasserstein', not 'non-saturating'/);
  rejects(() => resolveGanConfig('hinge', { gpWeight: 10 }), /gpWeight applies only to loss 'wasserstein', not 'hinge': the gradient penalty/);
  rejects(() => resolveGanConfig('lsgan', { gpWeight: 1 }), /gpWeight applies only to loss 'wasserstein'/);
  rejects(() => resolveGanConfig('wgan', { labelSmoothing: true }), /labelSmoothing applies only to loss 'non-saturating' or 'least-squares', not 'wasserstein'/);
  rejects(() => resolveGanConfig('hinge', parseSetOverrides(['labelSmoothing=0.1'])), /labelSmoothing applies only/);
  // "Off" is fine anywhere (sweeps cross these with every variant).
  assert.equal(resolveGanConfig('hinge', { gpWeight: 0, weightClip: 0, labelSmoothing: false }).loss, 'hinge');
  // Switching the loss drops the preset's WGAN clipping instead of failing.
  const switched = resolveGanConfig('wgan', { loss: 'hinge' });
  assert.ok(switched.loss === 'hinge' && !('weightClip' in switched));
  const lsgan = resolveGanConfig('lsgan', { labelSmoothing: 0.1 });
  assert.ok(lsgan.loss === 'least-squares' && lsgan.labelSmoothing === 0.1);
  // The schema itself says the same to callers that validate full configs.
  const full = { ...resolveGanConfig('hinge') } as Record<string, unknown>;
  const result = GanConfigSchema.safeParse({ ...full, weightClip: 0.01 });
  assert.ok(!result.success);
  assert.match(result.error.issues[0]!.message, /weightClip applies only to loss 'wasserstein'/);
});

test('invalid values are rejected with the key and the rule', () => {
  rejects(() => resolveGanConfig('dcgan', { 'd.activation': 'gelu' }), /d\.activation: Invalid option: expected one of "relu"\|"leaky-relu"\|"elu"\|"selu"/);
  rejects(() => resolveGanConfig('dcgan', { 'g.norm': 'layer' }), /g\.norm: Invalid option/);
  rejects(() => resolveGanConfig('dcgan', { diffAugment: 'color,blur' }), /diffAugment\.1: Invalid option/);
  rejects(() => resolveGanConfig('dcgan', { diffAugment: 'color,color' }), /diffAugment: lists an op twice/);
  rejects(() => resolveGanConfig('dcgan', { labelSmoothing: 0.7 }), /labelSmoothing: Too big/);
  rejects(() => resolveGanConfig('dcgan', { 'lr.d': 0 }), /lr\.d: Too small/);
  rejects(() => resolveGanConfig('dcgan', { 'perceptual.weight': 1 }), /perceptual\.weightsPath: perceptual\.weight > 0 needs perceptual\.weightsPath/);
  rejects(() => resolveGanConfig('dcgan', { loss: 'hinj' }), /loss=hinj is not a loss \(did you mean 'hinge'\?\)/);
  rejects(() => resolveGanConfig('wgangp'), /unknown GAN variant 'wgangp' \(did you mean 'wgan-gp'\?\); valid: dcgan, lsgan, wgan, wgan-gp, hinge/);
  rejects(() => resolveGanConfig('dcgan', { d: { filterz: 3 } }), /unknown GAN config key 'd\.filterz'/);
  rejects(() => resolveGanConfig('dcgan', { variant: 'wgan' }), /unknown GAN config key 'variant'/);
});

test('a resolved config round-trips through JSON (run.json) and every schema leaf is a settable key', () => {
  const cfg = resolveGanConfig('wgan-gp', parseSetOverrides(['perceptual.weight=1', 'perceptual.weightsPath=/tmp/vgg.safetensors']));
  const again: ResolvedGanConfig = parseGanConfig(JSON.parse(JSON.stringify(cfg)));
  assert.deepEqual(again, cfg);
  const leaves = (obj: object, prefix = ''): string[] => Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`]);
  for (const id of GAN_VARIANT_IDS) {
    for (const key of leaves(resolveGanConfig(id))) {
      if (key !== 'variant') assert.ok(key in GAN_CONFIG_KEYS, `${key} is settable`);
    }
  }
});
