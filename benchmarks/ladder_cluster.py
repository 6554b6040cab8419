"""Benchmark / experiment (issue 26): the ladder cluster of a commensurate comb, and a block Krylov method seeded
with one vector per ladder.

On a grid commensurate with modes:40-60 the slow modes of Eq. (14) come in clusters (docs/theory.md §5, "The ladder
cluster"): gamma_1 (every ladder in phase), then about one gamma per ladder component in a narrow band, then the
next band.  This script prints, for the grounded standard form C = L^-1 E^T A~ E L^-T of ``stability`` (the
operator SLEPc sees, ``solvers/stability/matrix_free._GroundedOperator``):

- the ladder components and the top ``--top`` gamma (scipy ``eigsh`` on C, a reference);
- a block Krylov method whose first block is gamma_1's eigenvector cut into its ladder components (one vector per
  component, disjoint supports), with full reorthogonalisation (rank-revealing: directions below 1e-10 of the
  block are dropped): per block step the basis size, the products of C so far, the ``--nev`` smallest gamma of the
  Rayleigh-Ritz projection and their relative residuals ||C x - mu x|| / mu.

It measures what a block method seeded by the ladders could gain over SLEPc's single-vector Krylov-Schur: the
Ritz values reach the cluster's gamma to ~1e-10 in a few block steps (the block spans the cluster), but the
residuals fall only by ~3x per step, limited by the next band (about 2 % above), so the products needed grow with
the number of ladders as for Krylov-Schur (docs/benchmarks.md, "The ladder cluster: a block method").

Run:  .venv/bin/python benchmarks/ladder_cluster.py [--refine 16] [--nev 6] [--steps 10] [--top 30]
"""

import argparse
import time

import numpy as np
import scipy.sparse.linalg as spla


def grounded_operator(refine, lam=1.0, T0=0.2, spectrum="modes:40-60"):
    """(problem, apply C to an n x k block, the ladder label of each reduced index)."""
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.stability import make_problem
    from ephkin.solvers.stability.ladders import GroundedCholesky, Ladders
    from ephkin.solvers.stability.matrix_free import _GroundedOperator

    p = make_problem(parse_spectrum(spectrum), lam, T0, refine=refine)
    Mh = p.m_matrix(scaled=True)
    ladders = Ladders(p, Mh)
    chol = GroundedCholesky(Mh, ladders, p.E)
    N = chol.factorise().polish(Mh, ladders.N)
    ctx = _GroundedOperator(p, N, chol)

    def C(W):
        return chol.lower(p.ahat_matvec(ctx.lift(W))[chol.order])

    return p, C, ladders.label[chol.order]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refine", type=int, default=16)
    ap.add_argument("--nev", type=int, default=6)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--top", type=int, default=30, help="reference gamma from eigsh (0: none)")
    a = ap.parse_args(argv)
    p, C, label = grounded_operator(a.refine)
    n = label.size
    count = [0]

    def counted(W):
        W = np.asarray(W, dtype=float)
        one = W.ndim == 1
        W = W[:, None] if one else W
        count[0] += W.shape[1]
        out = C(W)
        return out[:, 0] if one else out

    op = spla.LinearOperator((n, n), matvec=counted, matmat=counted, dtype=float)
    comps = np.unique(label)
    print(f"modes:40-60, lambda 1, T0 0.2, refine {a.refine}: L = {p.grid.L}, {comps.size} ladder components")
    t = time.perf_counter()
    mu1, w1 = spla.eigsh(op, k=1, which="LA", tol=1e-12)
    print(f"gamma_1 = {1 / mu1[0]:.10f} ({count[0]} products, {time.perf_counter() - t:.2f} s)")
    if a.top:
        count[0] = 0
        t = time.perf_counter()
        mu = spla.eigsh(op, k=a.top, which="LA", tol=1e-10, ncv=min(n - 1, 3 * a.top), return_eigenvectors=False)
        g = np.sort(1 / mu)
        print(f"reference, the {a.top} smallest gamma ({count[0]} products, {time.perf_counter() - t:.1f} s):")
        print("  " + " ".join(f"{x:.7f}" for x in g))
    # the first block: gamma_1's eigenvector cut into its ladder components (disjoint supports: orthogonal)
    V = np.zeros((n, comps.size))
    for j, c in enumerate(comps):
        sel = label == c
        V[sel, j] = w1[sel, 0]
    norms = np.linalg.norm(V, axis=0)
    Q = V[:, norms > 1e-14 * norms.max()] / norms[norms > 1e-14 * norms.max()]
    basis, images = [Q], []
    count[0] = 0
    print("block step | basis | products | smallest gamma of the Rayleigh-Ritz projection | max relative residual")
    for step in range(1, a.steps + 1):
        images.append(counted(Q))
        B, CB = np.hstack(basis), np.hstack(images)
        H = B.T @ CB
        theta, S = np.linalg.eigh(0.5 * (H + H.T))
        top = np.argsort(theta)[::-1][: a.nev]
        res = np.linalg.norm(CB @ S[:, top] - (B @ S[:, top]) * theta[top], axis=0) / theta[top]
        print(
            f"{step:10d} | {B.shape[1]:5d} | {count[0]:8d} | "
            + " ".join(f"{1 / x:.10f}" for x in theta[top])
            + f" | {res.max():.1e} (gamma_1 {res[0]:.0e})"
        )
        Z = images[-1] - B @ (B.T @ images[-1])
        Z -= B @ (B.T @ Z)
        U, sv, _ = np.linalg.svd(Z, full_matrices=False)
        U = U[:, sv > 1e-10 * np.linalg.norm(images[-1], 2)]
        U -= B @ (B.T @ U)
        Q, _ = np.linalg.qr(U)
        basis.append(Q)


if __name__ == "__main__":
    main()
