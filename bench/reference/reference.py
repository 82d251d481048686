#!/usr/bin/python3
"""PyTorch reference for `npm run bench -- --reference` (bench/run.ts spawns it once per case, back to back with medsyn).

  /usr/bin/python3 bench/reference/reference.py --case gan-step-64 [--warmup 2] [--steps 5]
      one case; prints one JSON line {"name", "ms_per_step", "images_per_s", "peak_rss_mb", "steps", "torch", ...}
  /usr/bin/python3 bench/reference/reference.py --shapes test/bench/reference_shapes.json
      parameter names/shapes/counts and output shapes of the mirrored networks for the configs in SHAPE_CONFIGS
      (the committed JSON is what test/bench/reference-parity.test.ts compares medsyn's networks against)

Threads: 2 (torch.set_num_threads; bench/run.ts also sets OMP/OPENBLAS/MKL_NUM_THREADS=2 before the interpreter
starts). Exit status 3 with {"unavailable": reason} when torch cannot be imported, so the harness can say so.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
THREADS = int(os.environ.get('MEDSYN_BENCH_REF_THREADS', '2'))  # the setting; bench/run.ts passes it on

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any import failure means "no reference here"
    print(json.dumps({'unavailable': f'PyTorch not importable with {sys.executable}: {e}'}))
    sys.exit(3)

sys.path.insert(0, HERE)
import networks as nets  # noqa: E402

IMAGE_CHANNELS, CLASSES = 1, 4
GAN_CHANNELS = IMAGE_CHANNELS + CLASSES  # joint image + one-hot mask samples

# name -> what bench/run.ts runs under the same name
CASES = {
    'gan-step-64': {'kind': 'gan', 'size': 64, 'filters': 32, 'batch': 16},
    'gan-step-128': {'kind': 'gan', 'size': 128, 'filters': 64, 'batch': 16},
    'unet-step-64': {'kind': 'unet', 'size': 64, 'batch': 16},
    'unet-step-128': {'kind': 'unet', 'size': 128, 'batch': 16},
    'inception': {'kind': 'inception', 'batch': 4},
}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(step, warmup, steps):
    """Median wall ms per step, all wall times, median process CPU ms per step (all threads)."""
    for _ in range(warmup):
        step()
    ms, cpu = [], []
    for _ in range(steps):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(ms), ms, statistics.median(cpu)


def make_case(name, quick_batch=None):
    if name.startswith('frechet-'):
        return frechet_case(int(name.split('-')[1]))
    spec = CASES[name]
    torch.manual_seed(0)
    if spec['kind'] == 'gan':
        s, n = spec['size'], spec['batch']
        g = nets.Generator(s, GAN_CHANNELS, spec['filters']).train()
        d = nets.Discriminator(s, GAN_CHANNELS, spec['filters']).train()
        opt_g, opt_d = nets.dcgan_optimizers(g, d)
        real = torch.rand(n, GAN_CHANNELS, s, s) * 2 - 1
        return (lambda: nets.gan_step(g, d, opt_g, opt_d, real, 128)), n, None
    if spec['kind'] == 'unet':
        s, n = spec['size'], spec['batch']
        net = nets.UNet(IMAGE_CHANNELS, CLASSES, depth=4, filters=16, norm='batch').train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        images = torch.rand(n, IMAGE_CHANNELS, s, s) * 2 - 1
        labels = torch.randint(0, CLASSES, (n, s, s))
        return (lambda: nets.unet_step(net, opt, images, labels, CLASSES)), n, None
    if spec['kind'] == 'inception':
        return inception_case(quick_batch or spec['batch'])
    raise KeyError(name)


def inception_case(n):
    """pytorch-fid's FID Inception-v3 (the module test/metrics/make_inception_vectors.py builds from the metrics spec;
    torchvision is not installed here), random weights, eval mode, [n, 3, 299, 299] input, pool3 features."""
    sys.path.insert(0, os.path.join(ROOT, 'test', 'metrics'))
    from make_inception_vectors import FIDInception  # noqa: E402
    model = FIDInception().eval()
    x = torch.rand(n, 3, 299, 299) * 2 - 1

    def step():
        with torch.no_grad():
            return model(x)[0]
    return step, n, 'FID Inception-v3 from test/metrics/make_inception_vectors.py (no torchvision), random weights'


def frechet_case(dim):
    """pytorch-fid's calculate_frechet_distance: scipy.linalg.sqrtm (complex Schur) of Σ1Σ2 in float64."""
    try:
        from scipy import linalg
    except Exception as e:  # noqa: BLE001
        return None, None, f'scipy not importable: {e}'
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((dim, dim + 100)), rng.standard_normal((dim, dim + 100))
    s1, s2 = a @ a.T, b @ b.T
    mu1, mu2 = np.zeros(dim), rng.standard_normal(dim)

    def step():
        covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
        covmean = covmean.real
        diff = mu1 - mu2
        return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    return step, None, 'pytorch-fid calculate_frechet_distance (scipy.linalg.sqrtm, float64), not PyTorch'


def run_case(args):
    torch.set_num_threads(THREADS)
    step, images, note = make_case(args.case, args.batch)
    if step is None:
        print(json.dumps({'name': args.case, 'unavailable': note}))
        return
    median, ms, cpu = timed(step, args.warmup, args.steps)
    out = {'name': args.case, 'ms_per_step': median, 'images_per_s': None if images is None else images * 1000 / median,
           'peak_rss_mb': peak_rss_mb(), 'steps': len(ms), 'all_ms': ms, 'cpu_ms_per_step': cpu, 'torch': torch.__version__,
           'threads': torch.get_num_threads()}
    if note:
        out['note'] = note
    print(json.dumps(out))


# ----------------------------------------------------------------------------------------------- shapes mode
SHAPE_BATCH = 2
SHAPE_CONFIGS = [
    # the benchmarked DCGAN preset (batch norm, ReLU in G, LeakyReLU in D) at both sizes …
    {'net': 'dcgan', 'size': 64, 'filters': 32, 'g_norm': 'batch', 'd_norm': 'batch'},
    {'net': 'dcgan', 'size': 128, 'filters': 64, 'g_norm': 'batch', 'd_norm': 'batch'},
    # … and the bias / instance-norm paths (biases appear exactly where there is no norm)
    {'net': 'dcgan', 'size': 32, 'filters': 16, 'g_norm': 'none', 'd_norm': 'instance'},
    {'net': 'unet', 'size': 64, 'depth': 4, 'filters': 16, 'norm': 'batch'},
    {'net': 'unet', 'size': 128, 'depth': 4, 'filters': 16, 'norm': 'batch'},
    {'net': 'unet', 'size': 32, 'depth': 3, 'filters': 8, 'norm': 'none'},
]


def medsyn_layout(module, pname, shape):
    """PyTorch weight layout -> TF.js layout medsyn stores (src/models/layers/linear.ts)."""
    if pname != 'weight':
        return shape
    if isinstance(module, torch.nn.ConvTranspose2d):  # [in, out, kh, kw] -> [kh, kw, out, in]
        return [shape[2], shape[3], shape[1], shape[0]]
    if isinstance(module, torch.nn.Conv2d):  # [out, in, kh, kw] -> [kh, kw, in, out]
        return [shape[2], shape[3], shape[1], shape[0]]
    if isinstance(module, torch.nn.Linear):  # [out, in] -> [in, out]
        return [shape[1], shape[0]]
    return shape


def describe(model):
    params = []
    for mname, module in model.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            shape = list(p.shape)
            params.append({'name': f'{mname}.{pname}', 'torch_shape': shape, 'shape': medsyn_layout(module, pname, shape),
                           'count': p.numel()})
    buffers = sorted(n for n, _ in model.named_buffers() if not n.endswith('num_batches_tracked'))
    return {'params': params, 'total': sum(p['count'] for p in params), 'buffers': buffers}


def nhwc(t):
    s = list(t.shape)
    return [s[0], s[2], s[3], s[1]] if len(s) == 4 else s


def shapes(out_file):
    torch.manual_seed(0)
    entries = []
    for cfg in SHAPE_CONFIGS:
        s, n = cfg['size'], SHAPE_BATCH
        with torch.no_grad():
            if cfg['net'] == 'dcgan':
                g = nets.Generator(s, GAN_CHANNELS, cfg['filters'], 128, cfg['g_norm']).eval()
                d = nets.Discriminator(s, GAN_CHANNELS, cfg['filters'], cfg['d_norm']).eval()
                fake = g(torch.randn(n, 128))
                logits, feats = d(fake)
                entries.append({'config': {**cfg, 'channels': GAN_CHANNELS, 'latent_dim': 128, 'batch': n},
                                'generator': {**describe(g), 'output': nhwc(fake)},
                                'discriminator': {**describe(d), 'logits': list(logits.shape), 'features': list(feats.shape)}})
            else:
                u = nets.UNet(IMAGE_CHANNELS, CLASSES, cfg['depth'], cfg['filters'], cfg['norm']).eval()
                out = u(torch.rand(n, IMAGE_CHANNELS, s, s))
                entries.append({'config': {**cfg, 'in_channels': IMAGE_CHANNELS, 'classes': CLASSES, 'batch': n},
                                'unet': {**describe(u), 'output': nhwc(out)}})
    doc = {'generated_by': 'bench/reference/reference.py --shapes', 'torch': torch.__version__, 'entries': entries}
    with open(out_file, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print(f'wrote {out_file}: {len(entries)} configs')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--case')
    ap.add_argument('--shapes')
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--batch', type=int, default=None, help='images per step for the inception case')
    args = ap.parse_args()
    if args.shapes:
        shapes(args.shapes)
    elif args.case:
        run_case(args)
    else:
        ap.error('--case NAME or --shapes FILE')


if __name__ == '__main__':
    main()
