/**
 * medsyn's DCGAN and U-Net against their PyTorch mirrors in bench/reference/networks.py, so that the benchmark's
 * medsyn/PyTorch ratios compare the same networks. The PyTorch side is read from the committed
 * test/bench/reference_shapes.json (written by `/usr/bin/python3 bench/reference/reference.py --shapes
 * test/bench/reference_shapes.json`): no Python is needed here. Compared: every parameter's name and shape (PyTorch
 * layouts mapped to medsyn's TF.js ones), per-network totals, buffer names and output shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import { resolveGanConfig } from '../../src/gan/config.js';
import { buildDiscriminator, buildGenerator, type DcganConfig } from '../../src/models/dcgan.js';
import type { NormKind } from '../../src/models/layers/norm.js';
import { createUNet } from '../../src/models/unet.js';

await initEngine({ log: () => {} });

interface ParamEntry { name: string; shape: number[]; count: number }
interface NetEntry { params: ParamEntry[]; total: number; buffers: string[]; output?: number[]; logits?: number[]; features?: number[] }
interface Entry {
  config: { net: 'dcgan' | 'unet'; size: number; filters: number; batch: number; channels?: number; latent_dim?: number;
    g_norm?: NormKind; d_norm?: NormKind; depth?: number; norm?: NormKind; in_channels?: number; classes?: number };
  generator?: NetEntry; discriminator?: NetEntry; unet?: NetEntry;
}

// the JSON is not copied to dist/: read it from the source tree (dist/test/bench → test/bench)
const here = path.dirname(fileURLToPath(import.meta.url));
const jsonPath = [path.join(here, 'reference_shapes.json'), path.resolve(here, '../../../test/bench/reference_shapes.json')].find((p) => fs.existsSync(p))!;
const doc = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as { entries: Entry[] };

/** Throws at the first difference between one network's variables and the PyTorch description. */
function compare(where: string, params: ReadonlyMap<string, tf.Variable>, buffers: ReadonlyMap<string, tf.Variable>, ref: NetEntry): void {
  const mine = [...params].map(([name, v]) => ({ name, shape: v.shape, count: v.size }));
  const total = mine.reduce((a, p) => a + p.count, 0);
  const byName = new Map(mine.map((p) => [p.name, p]));
  for (const r of ref.params) {
    const m = byName.get(r.name);
    assert.ok(m, `${where}: PyTorch has ${r.name} [${r.shape.join(', ')}], medsyn does not`);
    assert.deepEqual(m.shape, r.shape, `${where}: ${r.name} shape`);
  }
  assert.deepEqual(mine.map((p) => p.name).sort(), ref.params.map((p) => p.name).sort(), `${where}: parameter names`);
  assert.equal(total, ref.total, `${where}: parameter count`);
  assert.deepEqual([...buffers.keys()].sort(), [...ref.buffers].sort(), `${where}: buffers (running statistics)`);
}

test('reference_shapes.json covers the benchmarked configs', () => {
  const names = doc.entries.map((e) => `${e.config.net}-${e.config.size}-${e.config.filters}`);
  for (const want of ['dcgan-64-32', 'dcgan-128-64', 'unet-64-16', 'unet-128-16']) assert.ok(names.includes(want), want);
});

test('the bench\'s GAN config is the DCGAN preset the reference mirrors (batch norm, ReLU G, LeakyReLU D, Z = 128)', () => {
  const gan = resolveGanConfig('dcgan', { batchSize: 16, 'g.filters': 32, 'd.filters': 32 });
  assert.deepEqual([gan.g.norm, gan.g.activation, gan.g.spectralNorm], ['batch', 'relu', false]);
  assert.deepEqual([gan.d.norm, gan.d.activation, gan.d.spectralNorm], ['batch', 'leaky-relu', false]);
  assert.equal(gan.latentDim, 128);
});

for (const e of doc.entries) {
  const c = e.config;
  if (c.net === 'dcgan') {
    test(`DCGAN ${c.size} px, ${c.filters} filters, G ${c.g_norm} / D ${c.d_norm}: same parameters and output shapes as PyTorch`, () => {
      const cfg: DcganConfig = {
        latentDim: c.latent_dim!,
        g: { filters: c.filters, activation: 'relu', norm: c.g_norm!, spectralNorm: false },
        d: { filters: c.filters, activation: 'leaky-relu', norm: c.d_norm!, spectralNorm: false },
        init: { kind: 'normal', gain: 0.02 },
      };
      const shape = [c.size, c.size, c.channels!] as const;
      const g = buildGenerator(cfg, shape, new Rng(1));
      const d = buildDiscriminator(cfg, shape, new Rng(2));
      try {
        compare('generator', g.params, g.buffers, e.generator!);
        compare('discriminator', d.params, d.buffers, e.discriminator!);
        tf.tidy(() => {
          const fake = g.apply(tf.zeros([c.batch, c.latent_dim!]) as tf.Tensor2D, { training: false });
          assert.deepEqual(fake.shape, e.generator!.output);
          const out = d.apply(fake, { training: false });
          assert.deepEqual(out.logits.shape, e.discriminator!.logits);
          assert.deepEqual(out.features.shape, e.discriminator!.features);
        });
      } finally {
        g.dispose();
        d.dispose();
      }
    });
  } else {
    test(`U-Net ${c.size} px, depth ${c.depth}, ${c.filters} filters, ${c.norm} norm: same parameters and output shape as PyTorch`, () => {
      const net = createUNet({ inChannels: c.in_channels!, numClasses: c.classes!, depth: c.depth!, filters: c.filters, norm: c.norm! });
      try {
        compare('unet', net.params, net.buffers, e.unet!);
        tf.tidy(() => {
          const out = net.apply(tf.zeros([c.batch, c.size, c.size, c.in_channels!]) as tf.Tensor4D, { training: false });
          assert.deepEqual(out.shape, e.unet!.output);
        });
      } finally {
        net.dispose();
      }
    });
  }
}
