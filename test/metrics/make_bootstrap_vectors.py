"""Reference values for test/metrics/bootstrap.test.ts → bootstrap_vectors.json (run: python3 make_bootstrap_vectors.py).

For explicitly resampled feature matrices X* = X[ix], Y* = Y[iy] (indices drawn here with numpy RandomState):
- FID with ddof 1, where tr (Σx Σy)^{1/2} = Σ σ(X*c Y*cᵀ) / √((n1−1)(n2−1)) with the singular values from
  numpy's SVD of the centred cross product (no squaring, so no √ε noise in the rank-deficient n < d case);
  scipy's sqrtm route is printed for comparison only;
- the unbiased MMD² over positions a ≠ b of the draw (duplicated rows contribute k(x, x)), polynomial kernel
  (x·y/d + coef0)^degree, and the variant that excludes pairs of identical original rows ('exclude' ties).
Features: make_vectors.py gen_features (reproduced bit-exactly by test/metrics/helpers.ts genFeatures).
"""
import json
import os

import numpy as np
import scipy.linalg


def gen_features(seed, n, d, shift):
    rs = np.random.RandomState(seed)
    U = rs.random_sample(3 * n * d).reshape(3, n, d)
    X = (U[0] + U[1] + U[2] - 1.5) * 2.0
    scale = 0.5 + rs.random_sample(d)
    X = X * scale[None, :]
    X[:, 1:] += 0.6 * X[:, :-1]
    X = X + shift
    return X


def fid_svd(X, Y):
    mx, my = X.mean(0), Y.mean(0)
    s = np.linalg.svd((X - mx) @ (Y - my).T, compute_uv=False).sum() / np.sqrt((len(X) - 1) * (len(Y) - 1))
    tr1 = np.trace(np.cov(X, rowvar=False))
    tr2 = np.trace(np.cov(Y, rowvar=False))
    return float(((mx - my) ** 2).sum() + tr1 + tr2 - 2 * s), float(s)


def fid_sqrtm(X, Y):
    mx, my = X.mean(0), Y.mean(0)
    s1, s2 = np.cov(X, rowvar=False), np.cov(Y, rowvar=False)
    c = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mx - my) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(c).real)


def mmd2_positions(ix, iy, X, Y, degree, coef0, ties):
    d = X.shape[1]
    A, B = X[ix], Y[iy]
    k = lambda P, Q: (P @ Q.T / d + coef0) ** degree
    Kxx, Kyy, Kxy = k(A, A), k(B, B), k(A, B)
    if ties == 'positions':
        mx = ~np.eye(len(ix), dtype=bool)
        my = ~np.eye(len(iy), dtype=bool)
    else:  # exclude pairs that are the same original row
        mx = ix[:, None] != ix[None, :]
        my = iy[:, None] != iy[None, :]
    return float(Kxx[mx].sum() / mx.sum() + Kyy[my].sum() / my.sum() - 2 * Kxy.mean())


def main():
    out = {'cases': []}
    for (n1, n2, d, sx, sy, shift_y, degree, coef0) in [(40, 36, 100, 1, 2, 0.2, 3, 1.0), (80, 70, 10, 3, 4, 0.3, 3, 1.0),
                                                        (50, 50, 24, 5, 6, 0.1, 2, 0.5)]:
        X = gen_features(sx, n1, d, 0.0)
        Y = gen_features(sy, n2, d, shift_y)
        rs = np.random.RandomState(100 + n1)
        draws = [{'ix': list(range(n1)), 'iy': list(range(n2))}]
        for _ in range(3):
            draws.append({'ix': rs.randint(0, n1, size=n1).tolist(), 'iy': rs.randint(0, n2, size=n2).tolist()})
        for dr in draws:
            ix, iy = np.array(dr['ix']), np.array(dr['iy'])
            dr['fid'], dr['trace_sqrt'] = fid_svd(X[ix], Y[iy])
            dr['fid_scipy_sqrtm'] = fid_sqrtm(X[ix], Y[iy])
            dr['mmd2_positions'] = mmd2_positions(ix, iy, X, Y, degree, coef0, 'positions')
            dr['mmd2_exclude'] = mmd2_positions(ix, iy, X, Y, degree, coef0, 'exclude')
            print(n1, n2, d, 'rel(sqrtm vs svd) = %.1e' % (abs(dr['fid_scipy_sqrtm'] - dr['fid']) / dr['fid']))
        out['cases'].append({'n1': n1, 'n2': n2, 'd': d, 'seed_x': sx, 'seed_y': sy, 'shift_x': 0.0, 'shift_y': shift_y,
                             'degree': degree, 'coef0': coef0, 'draws': draws})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bootstrap_vectors.json')
    with open(path, 'w') as fh:
        json.dump(out, fh, indent=None, separators=(',', ':'))
        fh.write('\n')
    print('wrote', path, 'numpy', np.__version__, 'scipy', scipy.__version__)


if __name__ == '__main__':
    main()
