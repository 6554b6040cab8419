"""The FFT product of the Toeplitz-minus-Hankel kernel (seed 000 Eq. (S20), docs/theory.md (T4)).

``KernelOperator.matvec`` (one rfft + one irfft at next_fast_len(2L - 1)) against
two references: the dense matrix ``KernelOperator.dense()`` and the previous
product (four FFTs at the power of two >= 3L, Toeplitz and Hankel inverted
separately), kept here only as a reference.  Several L (odd/even, small and
~5000), kernel widths r, both kernels and both principal-value rules; then
Sigma[f] of the kinetic equation (Eq. (4)) through the same product.
"""

import math

import numpy as np
import pytest

from ephkin.pde.grids import FoldedGrid, default_grid
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.linearized import KernelOperator, LinearizedProblem
from ephkin.pde.spectra import make_spectrum

TOL = 1e-11


def four_fft_product(K, x):
    """The product before issue 17: Toeplitz and Hankel parts by separate zero-padded FFTs of x and of x reversed."""
    L = K.L
    n = 1 << int(math.ceil(math.log2(3 * L)))
    T = np.fft.rfft(np.concatenate([K.t[:0:-1], K.t]), n)
    H = np.fft.rfft(K.h, n)
    tx = np.fft.irfft(T * np.fft.rfft(x, n), n)[L - 1 : 2 * L - 1]
    hx = np.fft.irfft(H * np.fft.rfft(x[::-1], n), n)[L - 1 : 2 * L - 1]
    return tx - hx


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def problem(spec, r_top, L, kernel, pv):
    """Spectrum ``spec`` (plain units, top frequency 1) on the grid eps = 1/r_top with L points."""
    sp = make_spectrum(spec, 1.3, units="plain")
    eps = sp.omega_max / r_top
    T0 = max(0.05, 4.0 * eps, L * eps / 100.0)  # resolved by the grid; f0' above underflow at the cutoff
    return LinearizedProblem(sp, T0, FoldedGrid(eps, L), kernel, pv=pv)


CASES = [(spec, r, L) for spec, r in (("einstein", 1), ("einstein", 4), ("einstein", 37), ("modes:40-60", 60))
         for L in (1, 2, 7, 64, 501, 4999, 5000)]


@pytest.mark.parametrize("kernel", ["exact", "paper"])
@pytest.mark.parametrize("pv", ["subtracted", "dropped"])
@pytest.mark.parametrize("spec, r, L", CASES)
def test_product_equals_dense_and_four_fft(spec, r, L, kernel, pv):
    p = problem(spec, r, L, kernel, pv)
    K = p.K
    assert K.n >= 2 * L - 1
    x = np.random.default_rng(L + r).standard_normal(L)
    y = K.matvec(x)
    assert rel(y, K.dense() @ x) <= TOL
    assert rel(y, four_fft_product(K, x)) <= TOL
    # the scaled operator A_hat = diag(Z0^-1) + sqrt(f0'_i f0'_j) K_ij against its dense form
    if L <= 501:
        assert rel(p.ahat_matvec(x), p.ahat_dense() @ x) <= TOL


@pytest.mark.parametrize("L", [6, 501])
def test_block_apply_and_counter(L):
    K = KernelOperator(L, [3, 40], [0.7, 1.1])
    X = np.random.default_rng(1).standard_normal((L, 5))
    Y = K.matvec(X)
    for k in range(5):
        np.testing.assert_array_equal(Y[:, k], K.matvec(X[:, k]))  # same arithmetic column by column
    assert rel(Y, K.dense() @ X) <= TOL
    assert K.matvecs == 10 and K.total_matvecs == 10
    K2 = K.scaled(-2.5)
    assert rel(K2.matvec(X[:, 0]), -2.5 * (K.dense() @ X[:, 0])) <= TOL
    np.testing.assert_allclose(K2.dense(), -2.5 * K.dense(), rtol=0, atol=1e-15 * np.abs(K2.dense()).max())
    assert K2.matvecs == 1 and K.matvecs == 10 and K.total_matvecs == 11
    # work arrays are reused: a second product leaves the first result intact
    y1 = K.matvec(X[:, 0])
    y1c = y1.copy()
    K.matvec(X[:, 1])
    np.testing.assert_array_equal(y1, y1c)


@pytest.mark.parametrize("pv", ["subtracted", "dropped"])
@pytest.mark.parametrize("refine", [1, 3])
def test_sigma_of_kinetic_model_unchanged(pv, refine):
    # Sigma[f] = -(K_ext g) + closed-form tail (Eq. (4)) on the grid extended by the padding (g = -1/2): the
    # model's one length-L product plus prefix sums of the generator == the dense K_ext (and the four-FFT
    # product) on the extended grid, at i = 1..L + 2 (the two beyond the cutoff enter Sigma')
    sp = make_spectrum("modes:40-60", 1.0, units="g")
    T0 = 0.2
    p = LinearizedProblem(sp, T0, default_grid(sp, T0, refine), "exact", pv=pv)
    m = KineticModel(p)
    K_ext = KernelOperator(m.L + m.pad, p.r, m.eps * p.lam_r * p.r.astype(float) ** 2, p.pv)
    rng = np.random.default_rng(refine)
    for f in (m.initial(0.202), m.f_eq + 1e-3 * rng.standard_normal(m.L) * np.exp(-p.E / 0.5)):
        g = np.concatenate([f - 0.5, np.full(m.pad, -0.5)])
        ref_dense = -(K_ext.dense() @ g)[: m.L + 2] + m._tail()
        ref_old = -four_fft_product(K_ext, g)[: m.L + 2] + m._tail()
        s = m.sigma_ext(f)
        assert rel(s, ref_dense) <= TOL
        assert rel(s, ref_old) <= TOL
        # the mass-matrix action (Jacobian path) uses the same length-L operator
        v = rng.standard_normal(m.L)
        ref = m.mass_dense(f) @ v
        np.testing.assert_allclose(m.mass_apply(f, v), ref, rtol=0, atol=TOL * np.abs(ref).max())
    assert m.K.matvecs > 0 and m.kernel_matvecs == m.K.matvecs


@pytest.mark.parametrize("L", [1, 2, 7, 64, 101])
@pytest.mark.parametrize("P", [2, 3])
def test_product_shared_by_row_blocks_equals_the_whole(L, P):
    # ToeplitzHankel.distribute (the product of a group of ranks, bridge.sharing): each of P processes -- here
    # threads, with the allgather the ranks would do -- transforms its block of rows; every process gets the
    # whole product, equal to the serial one, for even and odd t, with and without a Hankel part, several rows
    import threading

    from ephkin.pde.fftops import ToeplitzHankel

    rng = np.random.default_rng(L + P)
    kernels = [(rng.normal(size=L), None, rng.normal(size=2 * L - 1), -1.0),
               (rng.normal(size=L), rng.normal(size=L), rng.normal(size=2 * L - 1), 1.0),
               (rng.normal(size=L), rng.normal(size=L), None, 1.0)]
    rows = rng.normal(size=(3, L))
    whole = ToeplitzHankel(L, kernels).apply_rows(rows)
    bounds = [L * r // P for r in range(P + 1)]
    barrier, board, got = threading.Barrier(P), {}, [None] * P

    def concat_for(rank):
        calls = [0]

        def concat(a, sizes):
            assert a.shape[-1] == sizes[rank]
            board.setdefault(calls[0], [None] * P)[rank] = a
            barrier.wait()
            joined = np.concatenate(board[calls[0]], axis=-1)
            barrier.wait()
            calls[0] += 1
            return joined

        return concat

    ops = [ToeplitzHankel(L, kernels) for _ in range(P)]
    for r, op in enumerate(ops):
        op.distribute(bounds, r, concat_for(r))
    threads = [threading.Thread(target=lambda r=r: got.__setitem__(r, ops[r].apply_rows(rows))) for r in range(P)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in range(P):
        assert rel(got[r], whole) < TOL
    ops[0].distribute(None, 0, None)  # undone: the serial product again
    assert rel(ops[0].apply_rows(rows), whole) < TOL
