#!/usr/bin/env python3
"""
Derives the Winograd / Toom-Cook matrices of F(m, r) used in native/winograd.c, exactly (fractions), from the
interpolation points, and checks y = Aᵀ[(G g) ⊙ (Bᵀ d)] against the direct correlation on random integers.
    /usr/bin/python3 scripts/winograd-matrices.py      (prints the C tables of native/winograd.c's 1-D kernels)
Construction (Lavin & Gray 2016; as in the wincnn tool): with finite points p_0 … p_{α−2} and ∞,
  Aᵀ[i][k] = p_k^i (∞: 1 in the last row), G[k] = [1, p_k, …, p_k^{r−1}] / Π_{j≠k}(p_k − p_j) (∞: e_{r−1}),
  Bᵀ[k] = coefficients of Π_{j≠k}(x − p_j) (∞: of Π_j(x − p_j)), lowest power first.
"""
from fractions import Fraction as F
import random


def polymul(a, b):
    r = [F(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            r[i + j] += x * y
    return r


def derive(m, r, pts):
    a = m + r - 1
    assert len(pts) == a - 1
    at = [[pts[k] ** i for k in range(a - 1)] + [F(1) if i == m - 1 else F(0)] for i in range(m)]
    g = []
    for k in range(a - 1):
        f = F(1)
        for j in range(a - 1):
            if j != k:
                f *= pts[k] - pts[j]
        g.append([pts[k] ** i / f for i in range(r)])
    g.append([F(0)] * (r - 1) + [F(1)])
    bt = []
    for k in range(a - 1):
        p = [F(1)]
        for j in range(a - 1):
            if j != k:
                p = polymul(p, [-pts[j], F(1)])
        bt.append(p + [F(0)] * (a - len(p)))
    p = [F(1)]
    for j in range(a - 1):
        p = polymul(p, [-pts[j], F(1)])
    bt.append(p)
    return at, g, bt


def check(m, r, at, g, bt, trials=50):
    a = m + r - 1
    for _ in range(trials):
        d = [F(random.randint(-9, 9)) for _ in range(a)]
        w = [F(random.randint(-9, 9)) for _ in range(r)]
        v = [sum(bt[i][j] * d[j] for j in range(a)) for i in range(a)]
        u = [sum(g[i][j] * w[j] for j in range(r)) for i in range(a)]
        y = [sum(at[i][j] * u[j] * v[j] for j in range(a)) for i in range(m)]
        if y != [sum(d[i + j] * w[j] for j in range(r)) for i in range(m)]:
            return False
    return True


def c_table(rows):
    def num(x):
        return f'{float(x)!r}f' if x.denominator == 1 else f'{x.numerator}.0f / {x.denominator}'
    return '{' + ', '.join('{' + ', '.join(num(x) for x in row) + '}' for row in rows) + '}'


if __name__ == '__main__':
    # F(4, 7): of the point sets 0, ±1, ±2, ±½ plus one more ± pair, ±3/2 rounded least with α = 10 (float32
    # against float64 over 192 channels: 5e-6 of max |y|; ±3 1.4e-5, ±4 1.3e-5, ±⅓ 1.6e-5, ±¼ 2.3e-5)
    for (m, r, pts, suffix) in [(2, 3, [F(0), F(1), F(-1)], '4'),
                                (2, 7, [F(0), F(1), F(-1), F(2), F(-2), F(1, 2), F(-1, 2)], '8'),
                                (4, 3, [F(0), F(1), F(-1), F(2), F(-2)], '6'),
                                (4, 7, [F(0), F(1), F(-1), F(2), F(-2), F(1, 2), F(-1, 2), F(3, 2), F(-3, 2)], '10')]:
        at, g, bt = derive(m, r, pts)
        assert check(m, r, at, g, bt), f'F({m}, {r}) failed'
        print(f'/* F({m}, {r}), points {", ".join(str(p) for p in pts)}, inf: checked */')
        print(f'static const float BT{suffix}[{m + r - 1}][{m + r - 1}] = {c_table(bt)};')
        print(f'static const float AT{suffix}[{m}][{m + r - 1}] = {c_table(at)};')
        print(f'static const float G{suffix}[{m + r - 1}][{r}] = {c_table(g)};')
    # F(2×2, 5×5) reuses F(4×4, 3×3)'s input transform (Lavin & Gray's Bᵀ for the points 0, ±1, ±2, ∞)
    lavin_bt = [[F(x) for x in row] for row in [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                                               [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]]
    at, g, bt = derive(2, 5, [F(0), F(1), F(-1), F(2), F(-2)])
    assert bt == lavin_bt and check(2, 5, at, g, bt), 'F(2, 5) failed'
    print('/* F(2, 5), points 0, 1, -1, 2, -2, inf (Bᵀ = F(4, 3)\'s): checked */')
    print(f'static const float AT6_2[2][6] = {c_table(at)};')
    print(f'static const float G5[6][5] = {c_table(g)};')
