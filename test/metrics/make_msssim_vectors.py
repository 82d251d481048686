#!/usr/bin/python3
"""Reference SSIM / MS-SSIM vectors for src/metrics/domain/diversity.ts (test/metrics/domain-diversity.test.ts).

An independent numpy/scipy implementation: Gaussian filtering with scipy.ndimage.gaussian_filter (sigma 1.5,
truncate 3.5 -> radius 5, i.e. an 11-tap window) cropped to the 'valid' region, C1=(0.01*2)^2, C2=(0.03*2)^2,
2x2 average pooling after edge-padding odd sides, scales reduced so the smallest side is >= 11 (capped at 5) and the
first S standard weights renormalised, negative cs/ssim clamped to 0, mean over channels.

The images are not stored: both sides rebuild them from a 32-bit LCG (see lcg_noise / make_pair), so the JSON stays
tiny. Run: /usr/bin/python3 test/metrics/make_msssim_vectors.py > test/metrics/msssim_vectors.json
"""
import json
import sys

import numpy as np
from scipy.ndimage import gaussian_filter

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def lcg_noise(seed, n):
    x = seed & 0xFFFFFFFF
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out[i] = x / 4294967296.0 * 2.0 - 1.0
    return out


def make_pair(h, w, c, seed_a, seed_b, mix):
    n = h * w * c
    idx = np.arange(n)
    ch = idx % c
    xx = (idx // c) % w
    yy = idx // (c * w)
    grad = ((xx * 3 + yy * 5 + ch * 7) % 17) / 8.0 - 1.0
    a = (0.5 * grad + 0.5 * lcg_noise(seed_a, n)).astype(np.float32)
    b = (mix * a.astype(np.float64) + (1.0 - mix) * lcg_noise(seed_b, n)).astype(np.float32)
    return a.reshape(h, w, c).astype(np.float64), b.reshape(h, w, c).astype(np.float64)


def filt(x):
    r = 5
    return gaussian_filter(x, sigma=1.5, truncate=3.5, mode='reflect')[r:-r, r:-r]


def ssim_cs(x, y, L=2.0):
    c1 = (0.01 * L) ** 2
    c2 = (0.03 * L) ** 2
    mx, my = filt(x), filt(y)
    vx = filt(x * x) - mx * mx
    vy = filt(y * y) - my * my
    cov = filt(x * y) - mx * my
    cs = (2 * cov + c2) / (vx + vy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return float(np.mean(lum * cs)), float(np.mean(cs))


def down(x):
    h, w = x.shape
    x = np.pad(x, ((0, h % 2), (0, w % 2)), mode='edge')
    return 0.25 * (x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2])


def n_scales(h, w):
    side, s = min(h, w), 0
    while side >= 11 and s < 5:
        s += 1
        side = -(-side // 2)
    return s


def msssim(a, b):
    h, w, c = a.shape
    S = n_scales(h, w)
    wts = WEIGHTS[:S] / WEIGHTS[:S].sum()
    vals, per = [], []
    for ch in range(c):
        x, y = a[:, :, ch], b[:, :, ch]
        css, sss = [], []
        for s in range(S):
            ss, cs = ssim_cs(x, y)
            css.append(cs)
            sss.append(ss)
            if s < S - 1:
                x, y = down(x), down(y)
        terms = [max(css[j], 0.0) for j in range(S - 1)] + [max(sss[-1], 0.0)]
        v = float(np.prod([t ** wt for t, wt in zip(terms, wts)]))
        vals.append(v)
        per.append({'cs': css, 'ssim': sss, 'value': v})
    return float(np.mean(vals)), S, per


CASES = [
    dict(h=16, w=16, c=1, seed_a=1, seed_b=2, mix=0.8),
    dict(h=32, w=32, c=1, seed_a=3, seed_b=4, mix=0.5),
    dict(h=45, w=50, c=3, seed_a=5, seed_b=6, mix=0.9),
    dict(h=64, w=64, c=1, seed_a=7, seed_b=8, mix=0.3),
    dict(h=33, w=33, c=2, seed_a=9, seed_b=10, mix=0.0),
    dict(h=24, w=40, c=1, seed_a=13, seed_b=14, mix=-0.9),
    dict(h=176, w=176, c=1, seed_a=11, seed_b=12, mix=0.7),
]


def main():
    out = {'generator': 'test/metrics/make_msssim_vectors.py', 'numpy': np.__version__, 'cases': []}
    import scipy
    out['scipy'] = scipy.__version__
    for case in CASES:
        a, b = make_pair(case['h'], case['w'], case['c'], case['seed_a'], case['seed_b'], case['mix'])
        value, S, per = msssim(a, b)
        out['cases'].append({**case, 'scales': S, 'msssim': value, 'perChannel': per,
                             'firstValues': [float(v) for v in a.reshape(-1)[:4]]})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
