#!/usr/bin/env python3
"""
Writes test/metrics/vectors.json and the small .npy fixtures in test/metrics/fixtures/ for the TypeScript metric
tests, with numpy / SciPy only, re-implementing the reference tools' formulas (metrics spec §1.6, 1.7, 2, 3, 4, 7):

  FID   pytorch-fid `calculate_frechet_distance` (scipy.linalg.sqrtm, eps=1e-6 fallback, imaginary check) and
        torch-fidelity >= 0.4 (sum Re sqrt eigvals(S1 S2)); statistics np.mean(axis=0) / np.cov(rowvar=False).
  KID   torch-fidelity `kid_features_to_metric` (RandomState(seed).choice for input 1 then input 2 per subset,
        polynomial kernel (gamma x.y + coef0)^degree, unbiased MMD^2, np.mean / np.std).
  PRDC  clovaai `compute_prdc` with scikit-learn's euclidean_distances formula (strict <), and
        Kynkaanniemi / torch-fidelity PRC (<=, generated = fake).
  IS    torch-fidelity `isc_features_to_metric`.

Random inputs are produced with numpy's legacy RandomState using only calls the TypeScript port reproduces
bit-exactly (random_sample and elementwise arithmetic; not standard_normal, whose log() may differ in the last bit),
so the tests regenerate the same matrices instead of storing them.

Run:  /usr/bin/python3 test/metrics/make_vectors.py            (about a minute; numpy + scipy)
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import scipy
import scipy.linalg

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
SHARED = "/work/shared/reference/metrics-test-vectors.json"
os.makedirs(FIX, exist_ok=True)


def f(x):
    return float(x)


# ----------------------------------------------------------------------------------------------------------------
# generators (mirrored in test/metrics/helpers.ts)
# ----------------------------------------------------------------------------------------------------------------
def gen_features(seed, n, d, shift):
    """Roughly normal features (Irwin-Hall of 3 uniforms) scaled per column, neighbouring columns mixed, shifted.
    Only random_sample and elementwise arithmetic: reproduced bit-exactly by the TypeScript helpers."""
    rs = np.random.RandomState(seed)
    U = rs.random_sample(3 * n * d).reshape(3, n, d)
    X = (U[0] + U[1] + U[2] - 1.5) * 2.0
    scale = 0.5 + rs.random_sample(d)
    X = X * scale[None, :]
    X[:, 1:] += 0.6 * X[:, :-1]  # right-hand side is evaluated first: uses the unmixed columns
    X = X + shift
    return X


def gen_lowrank_cov(seed, d, r):
    """Sigma = U U^T / r + diag(0.5 + random_sample(d)), U = 3.4 (random_sample(d, r) - 0.5); mu = 0.1 (random_sample(d) - 0.5)."""
    rs = np.random.RandomState(seed)
    U = (rs.random_sample(d * r).reshape(d, r) - 0.5) * 3.4
    D = 0.5 + rs.random_sample(d)
    mu = 0.1 * (rs.random_sample(d) - 0.5)
    S = np.zeros((d, d))
    for k in range(r):  # sequential rank-1 sums (same order as the TypeScript generator)
        S += np.outer(U[:, k], U[:, k])
    S = S / r
    S[np.diag_indices(d)] += D
    return mu, S


# ----------------------------------------------------------------------------------------------------------------
# reference formulas
# ----------------------------------------------------------------------------------------------------------------
def stats(X):
    X = np.asarray(X, dtype=np.float64)
    return np.mean(X, axis=0), np.cov(X, rowvar=False)


def fid_pytorch(mu1, s1, mu2, s2, eps=1e-6):
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    fallback = False
    if not np.isfinite(covmean).all():
        fallback = True
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    imag_ok = True
    max_imag = 0.0
    if np.iscomplexobj(covmean):
        max_imag = float(np.max(np.abs(covmean.imag)))
        imag_ok = bool(np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3))
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    return f(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr_covmean), fallback, imag_ok, max_imag


def fid_fidelity(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    tr = np.sum(np.sqrt(np.linalg.eigvals(s1.dot(s2)).astype("complex128")).real)
    return f(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr)


def fid_case(mu1, s1, mu2, s2):
    a, fb, ok, mi = fid_pytorch(mu1, s1, mu2, s2)
    return dict(fid_pytorch_fid=a, eps_fallback=fb, imag_check_passes=ok, max_abs_imag=mi, fid_torch_fidelity=fid_fidelity(mu1, s1, mu2, s2))


def kpoly(X, Y, degree=3, gamma=None, coef0=1.0):
    if gamma is None:
        gamma = 1.0 / X.shape[1]
    return (np.matmul(X, Y.T) * gamma + coef0) ** degree


def mmd2(K_XX, K_XY, K_YY):
    m = K_XX.shape[0]
    Kt_XX_sum = (K_XX.sum(axis=1) - np.diagonal(K_XX)).sum()
    Kt_YY_sum = (K_YY.sum(axis=1) - np.diagonal(K_YY)).sum()
    K_XY_sum = K_XY.sum(axis=0).sum()
    return (Kt_XX_sum + Kt_YY_sum) / (m * (m - 1)) - 2 * K_XY_sum / (m * m)


def kid(f1, f2, subsets, subset_size, seed=2020, dtype=np.float64):
    f1 = np.asarray(f1, dtype)
    f2 = np.asarray(f2, dtype)
    rng = np.random.RandomState(seed)
    mmds = np.zeros(subsets)
    idx = []
    for i in range(subsets):
        a = rng.choice(len(f1), subset_size, replace=False)
        b = rng.choice(len(f2), subset_size, replace=False)
        idx.append((a, b))
        x, y = f1[a], f2[b]
        mmds[i] = mmd2(kpoly(x, x), kpoly(x, y), kpoly(y, y))
    return f(np.mean(mmds)), f(np.std(mmds)), mmds, idx


def sk_dist(X, Y, same):
    """scikit-learn euclidean_distances for float64 (what prdc's pairwise_distances computes)."""
    XX = np.einsum("ij,ij->i", X, X)[:, None]
    YY = np.einsum("ij,ij->i", Y, Y)[None, :]
    D = -2 * (X @ Y.T)
    D += XX
    D += YY
    np.maximum(D, 0, out=D)
    if same:
        np.fill_diagonal(D, 0)
    return np.sqrt(D)


def kth(D, k):
    return np.sort(D, axis=1)[:, k]


def prdc(real, fake, k):
    rr = kth(sk_dist(real, real, True), k)
    rf = kth(sk_dist(fake, fake, True), k)
    D = sk_dist(real, fake, False)
    return dict(
        precision=f((D < rr[:, None]).any(axis=0).mean()),
        recall=f((D < rf[None, :]).any(axis=1).mean()),
        density=f((1.0 / float(k)) * (D < rr[:, None]).sum(axis=0).mean()),
        coverage=f((D.min(axis=1) < rr).mean()),
    ), rr, rf, D


def pr_le(real, fake, k):
    rr = kth(sk_dist(real, real, True), k)
    rf = kth(sk_dist(fake, fake, True), k)
    D = sk_dist(real, fake, False)
    return dict(precision=f((D <= rr[:, None]).any(axis=0).mean()), recall=f((D <= rf[None, :]).any(axis=1).mean()))


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def isc(logits, splits=10, shuffle=True, seed=2020):
    L = np.asarray(logits, np.float64)
    N = L.shape[0]
    if shuffle:
        L = L[np.random.RandomState(seed).permutation(N)]
    p, lp = softmax(L), log_softmax(L)
    sc = []
    for i in range(splits):
        a, b = i * N // splits, (i + 1) * N // splits
        pc, lpc = p[a:b], lp[a:b]
        q = pc.mean(0, keepdims=True)
        sc.append(np.exp((pc * (lpc - np.log(q))).sum(1).mean()))
    return dict(mean=f(np.mean(sc)), std=f(np.std(sc)), scores=[f(s) for s in sc])


# ----------------------------------------------------------------------------------------------------------------
out = {
    "_about": "Generated by test/metrics/make_vectors.py with numpy %s / SciPy %s. Random inputs are regenerated by the tests "
    "(numpy RandomState recipes in the script); .npy fixtures in fixtures/." % (np.__version__, scipy.__version__),
}
t0 = time.time()

# ---- MT19937 / RandomState ----------------------------------------------------------------------------------
rs = np.random.RandomState(12345)
out["rng"] = dict(
    seed12345_uint32_first5=[int(x) for x in rs._bit_generator.random_raw(5)] if hasattr(rs, "_bit_generator") else None,
    seed12345_random_sample_first5=[f(x) for x in np.random.RandomState(12345).random_sample(5)],
    seed0_standard_normal_first7=[f(x) for x in np.random.RandomState(0).standard_normal(7)],
    seed7_permutation_1000=np.random.RandomState(7).permutation(1000).tolist(),
    seed2020_choice_7_7=np.random.RandomState(2020).choice(7, 7, replace=False).tolist(),
    seed4294967295_permutation_20=np.random.RandomState(4294967295).permutation(20).tolist(),
    seed2020_choice_70000_3_then_choice_5_2=(lambda r: [r.choice(70000, 3, replace=False).tolist(), r.choice(5, 2, replace=False).tolist()])(
        np.random.RandomState(2020)
    ),
)

# ---- generator self-check values (TS must reproduce these exactly) --------------------------------------------
g = gen_features(11, 5, 4, 0.25)
out["gen_check"] = dict(recipe="gen_features(11, 5, 4, 0.25)", values=[f(x) for x in g.ravel()])
mu_l, S_l = gen_lowrank_cov(3, 5, 2)
out["gen_lowrank_check"] = dict(recipe="gen_lowrank_cov(3, 5, 2)", mu=[f(x) for x in mu_l], sigma=[f(x) for x in S_l.ravel()])

# ---- statistics ------------------------------------------------------------------------------------------------
X = gen_features(21, 40, 8, 1.0)
m, c = stats(X)
out["stats_d8"] = dict(recipe="gen_features(21, 40, 8, 1.0)", mean=[f(x) for x in m], cov=[f(x) for x in c.ravel()],
                       cov_ddof0=[f(x) for x in np.cov(X, rowvar=False, bias=True).ravel()])

# ---- FID on generated features ---------------------------------------------------------------------------------
fid_cases = []
for (d, n1, n2, s1, s2) in [(8, 50, 60, 101, 102), (64, 300, 250, 103, 104), (256, 600, 500, 105, 106), (64, 40, 50, 107, 108)]:
    X1 = gen_features(s1, n1, d, 0.0)
    X2 = gen_features(s2, n2, d, 0.3)
    m1, c1 = stats(X1)
    m2, c2 = stats(X2)
    case = dict(d=d, real=[s1, n1, 0.0], fake=[s2, n2, 0.3], note="real = gen_features(seed, n, d, shift) for [seed, n, shift]")
    case.update(fid_case(m1, c1, m2, c2))
    case["trace_sigma_real"] = f(np.trace(c1))
    if n1 <= d:
        A = (X1 - m1) / np.sqrt(n1 - 1)
        lam = np.linalg.eigvalsh(A @ c2 @ A.T)
        case["fid_exact_via_n_by_n"] = f((m1 - m2).dot(m1 - m2) + np.trace(c1) + np.trace(c2) - 2 * np.sum(np.sqrt(np.clip(lam, 0, None))))
    case["fid_ddof0_pytorch_fid"] = fid_pytorch(m1, np.cov(X1, rowvar=False, bias=True), m2, np.cov(X2, rowvar=False, bias=True))[0]
    fid_cases.append(case)
    print("fid d=%d n=%d/%d: %r" % (d, n1, n2, {k: v for k, v in case.items() if k.startswith("fid")}), file=sys.stderr)
out["fid_features"] = fid_cases

# ---- FID d = 2048 ----------------------------------------------------------------------------------------------
mu1, S1 = gen_lowrank_cov(31, 2048, 6)
mu2, S2 = gen_lowrank_cov(32, 2048, 6)
c2048 = dict(recipe="gen_lowrank_cov(31, 2048, 6) vs gen_lowrank_cov(32, 2048, 6)")
c2048.update(fid_case(mu1, S1, mu2, S2))
out["fid_lowrank_d2048"] = c2048
print("fid d2048 lowrank", c2048, "%.0fs" % (time.time() - t0), file=sys.stderr)

X1 = gen_features(41, 300, 2048, 0.0)
X2 = gen_features(42, 300, 2048, 0.2)
m1, c1 = stats(X1)
m2, c2 = stats(X2)
cr = dict(recipe="gen_features(41, 300, 2048, 0.0) vs gen_features(42, 300, 2048, 0.2): N < D, singular covariances")
cr.update(fid_case(m1, c1, m2, c2))
# Same quantity without the null-space noise: Sigma1 = A^T A with A = (X1 - mean)/sqrt(n1-1) (300 x 2048), so the
# non-zero eigenvalues of Sigma1 Sigma2 are those of the 300 x 300 PSD matrix A Sigma2 A^T.
A = (X1 - m1) / np.sqrt(X1.shape[0] - 1)
lam = np.linalg.eigvalsh(A @ c2 @ A.T)
cr["fid_exact_via_n_by_n"] = f((m1 - m2).dot(m1 - m2) + np.trace(c1) + np.trace(c2) - 2 * np.sum(np.sqrt(np.clip(lam, 0, None))))
out["fid_features_d2048_n300"] = cr
print("fid d2048 n300", cr, "%.0fs" % (time.time() - t0), file=sys.stderr)
del X1, X2, c1, c2, S1, S2

# ---- feature fixtures (float32) used by KID / PRDC / compute / npy tests ----------------------------------------
real = gen_features(51, 200, 64, 0.0).astype(np.float32)
fake = gen_features(52, 180, 64, 0.15).astype(np.float32)
np.save(os.path.join(FIX, "real_200x64_f4.npy"), real)
np.save(os.path.join(FIX, "fake_180x64_f4.npy"), fake)
real64 = real.astype(np.float64)
fake64 = fake.astype(np.float64)

mr, cr_ = stats(real64)
mf, cf_ = stats(fake64)
out["fixtures_stats"] = dict(real_mean=[f(x) for x in mr], real_cov_trace=f(np.trace(cr_)), real_cov_row0=[f(x) for x in cr_[0]],
                             real_cov_fro=f(np.sqrt((cr_ * cr_).sum())))
fidfx = fid_case(mr, cr_, mf, cf_)

# KID: input 1 = fake, input 2 = real (torch-fidelity order: generated first)
km, ks, kv, kidx = kid(fake64, real64, 10, 50)
km32, ks32, kv32, _ = kid(fake, real, 10, 50, dtype=np.float32)
kclip = kid(fake64, real64, 3, 180)
out["kid_fixtures"] = dict(
    input1="fake_180x64_f4.npy", input2="real_200x64_f4.npy", subsets=10, subset_size=50, seed=2020,
    mean=km, std=ks, values=[f(x) for x in kv], mean_float32=km32, std_float32=ks32, values_float32=[f(x) for x in kv32],
    first_subset_idx1=kidx[0][0].tolist(), first_subset_idx2=kidx[0][1].tolist(),
    last_subset_idx1=kidx[-1][0].tolist(), last_subset_idx2=kidx[-1][1].tolist(),
    clip_subsets3_size180=dict(mean=kclip[0], std=kclip[1], values=[f(x) for x in kclip[2]]),
)
# KID with a non-default kernel
kx = kid(fake64, real64, 4, 30, seed=7)
out["kid_fixtures"]["seed7_subsets4_size30"] = dict(mean=kx[0], std=kx[1])
gam = 0.01
rng = np.random.RandomState(99)
mm = []
for i in range(3):
    a = rng.choice(180, 40, replace=False)
    b = rng.choice(200, 40, replace=False)
    x, y = fake64[a], real64[b]
    mm.append(mmd2(kpoly(x, x, 2, gam, 0.5), kpoly(x, y, 2, gam, 0.5), kpoly(y, y, 2, gam, 0.5)))
out["kid_fixtures"]["degree2_gamma0.01_coef0.5_seed99_subsets3_size40"] = dict(mean=f(np.mean(mm)), std=f(np.std(mm)))

# PRDC
p5, rr5, rf5, D = prdc(real64, fake64, 5)
p3, rr3, rf3, _ = prdc(real64, fake64, 3)
le3 = pr_le(real64, fake64, 3)
margin = min(np.min(np.abs(D - rr5[:, None])), np.min(np.abs(D - rf5[None, :])), np.min(np.abs(D - rr3[:, None])), np.min(np.abs(D - rf3[None, :])))
out["prdc_fixtures"] = dict(
    prdc_k5=p5, prdc_k3=p3, pr_le_k3=le3, real_radii_k5_first5=[f(x) for x in rr5[:5]], fake_radii_k3_first5=[f(x) for x in rf3[:5]],
    min_margin=f(margin),
)
out["compute_fixtures"] = dict(
    opts=dict(kidSubsets=10, kidSubsetSize=50, seed=2020, prK=3, dcK=5),
    fid=fidfx["fid_pytorch_fid"], fid_torch_fidelity=fidfx["fid_torch_fidelity"], kid_mean=km, kid_std=ks,
    precision=le3["precision"], recall=le3["recall"], density=p5["density"], coverage=p5["coverage"],
)
print("fixtures", out["compute_fixtures"], file=sys.stderr)

# ---- Inception Score -------------------------------------------------------------------------------------------
L = np.random.RandomState(5).standard_normal(60 * 12).reshape(60, 12) * 3
out["isc"] = dict(
    logits=L.tolist(),
    shuffle_seed2020_splits10=isc(L, 10, True, 2020),
    noshuffle_splits4=isc(L, 4, False),
    shuffle_seed3_splits7=isc(L, 7, True, 3),
    probabilities_first_row=[f(x) for x in softmax(L)[0]],
)

# ---- .npy files ------------------------------------------------------------------------------------------------
small = np.arange(15, dtype=np.float64).reshape(5, 3) / 7.0 - 0.5
np.save(os.path.join(FIX, "small_5x3_f8.npy"), small)
np.save(os.path.join(FIX, "small_5x3_f8_fortran.npy"), np.asfortranarray(small))
np.save(os.path.join(FIX, "small_5x3_be_f8.npy"), small.astype(">f8"))
np.save(os.path.join(FIX, "small_5x3_be_f4.npy"), small.astype(">f4"))
with open(os.path.join(FIX, "small_5x3_f4_v2.npy"), "wb") as fh:
    np.lib.format.write_array(fh, small.astype(np.float32), version=(2, 0))
with open(os.path.join(FIX, "small_5x3_f4_v3.npy"), "wb") as fh:
    np.lib.format.write_array(fh, small.astype(np.float32), version=(3, 0))
np.save(os.path.join(FIX, "cube_2x3x4_f4_fortran.npy"), np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)))
np.save(os.path.join(FIX, "vector_6_f4.npy"), np.arange(6, dtype=np.float32))
np.save(os.path.join(FIX, "ints_4x2_i8.npy"), np.arange(8, dtype=np.int64).reshape(4, 2))
np.save(os.path.join(FIX, "empty_0x3_f4.npy"), np.zeros((0, 3), dtype=np.float32))
out["npy"] = dict(
    small_5x3=[f(x) for x in small.ravel()],
    small_5x3_f4=[f(x) for x in small.astype(np.float32).ravel()],
    cube_2x3x4=list(range(24)),
    real_row0=[f(x) for x in real[0]],
    fake_last_row=[f(x) for x in fake[-1]],
)

# ---- reference vectors of the shared spec (copied so the tests run without /work/shared) ----------------------
if os.path.exists(SHARED):
    sh = json.load(open(SHARED))
    out["shared"] = {k: sh[k] for k in ("fid", "kid", "prdc", "is_rng")}
else:
    print("warning: %s not found; keeping the previous 'shared' section" % SHARED, file=sys.stderr)
    prev = os.path.join(HERE, "vectors.json")
    if os.path.exists(prev):
        out["shared"] = json.load(open(prev)).get("shared")

with open(os.path.join(HERE, "vectors.json"), "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print("done in %.0fs" % (time.time() - t0), file=sys.stderr)
