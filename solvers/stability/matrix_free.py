"""The slow modes of Eq. (14) matrix-free (:func:`slow_modes`): the gamma nearest 0 on both sides from SLEPc
Krylov-Schur on the pencil (A_hat, M_hat) with A_hat an FFT shell, O(L) memory.  A comb: the ladder null modes of M
from the signed bond graph (:func:`m_null_space`, :mod:`.ladders`), M_hat grounded at their pins as one banded
Cholesky and the pencil in standard form (:class:`_GroundedOperator`; docs/theory.md §5), or, for a band wider than
BAND_MAX, deflated with MUMPS (:class:`_DeflatedA`, :class:`_DeflatedB`); M_hat applied matrix-free with e-e
collisions or a continuous alpha^2F (:class:`_MatrixFreeB`)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ephkin.pde.errors import InputError

from ..bridge import aij, comm, concat_rows, destroy, gather, scatter, solving_on
from ..eps import create_eps, eigenpairs, solve
from ..petsc_env import init_petsc
from .common import CONTINUUM_MARGIN, NULL_GAMMA_REL, PREFIX, check_memory, cholesky_ksp
from .continuum import continuum_edges, n_discrete
from .ladders import BAND_MAX, GroundedCholesky, Ladders, polish_null_space
from .smallest import ahat_shell

__all__ = ["slow_modes", "slow_modes_memory", "m_null_space"]


def _deal_ladders(Mt, size, rank):
    """The rows of the ladders (connected components of the block-diagonal ``Mt``) dealt to ``rank`` of ``size``,
    and every rank's, each sorted: the largest ladder first to the rank with the fewest rows so far (the same
    deal on every rank).  One ladder is not split: with fewer ladders than ranks some ranks get none."""
    from scipy.sparse.csgraph import connected_components

    ncomp, lab = connected_components(Mt, directed=False)
    sizes = np.bincount(lab, minlength=ncomp)
    load, owner = np.zeros(size, dtype=np.int64), np.empty(ncomp, dtype=np.int64)
    for comp in np.argsort(-sizes, kind="stable"):
        owner[comp] = int(np.argmin(load))
        load[owner[comp]] += sizes[comp]
    every = [np.nonzero(owner[lab] == r)[0] for r in range(size)]
    return every[rank], every


def _ncv(k, ladders=0):
    """SLEPc's basis size for k pairs: k + 76 (a comb's slow modes cluster), and, with m ladders and k > 1, room for
    the ladder cluster too (about one gamma per ladder, docs/theory.md §5): k + m + 32.  Refine 256 (m = 127,
    k = 4): 56 restarts and 87 s with 80 vectors, 19 restarts with 160 (-15 s on a loaded machine, +140 MB).  The
    slowest mode alone (k = 1) lies below the cluster and converges in one restart: no room added (160 vectors
    took 580 products against 414 at refine 256)."""
    return max(2 * k, k + 76, k + ladders + 32 if k > 1 else 0)


#: the largest SLEPc basis the ladder cluster may ask for without the user's own -stab_eps_ncv.  The first restart
#: costs ~1e-9 s x ncv^2 x L (orthogonalisation; Einstein at refine 16 and 32, ncv 835 and 1635: 11 and 67 s):
#: refine 64 (ncv 3235, L = 51 200) would take ~9 min and 2 GB, refine 125 (ncv 6285) an hour and 11 GB
NCV_CLUSTER_MAX = 2048


def _check_cluster(PETSc, k, m, L):
    """Refuse (InputError on ``nev``) a basis for the ladder cluster above NCV_CLUSTER_MAX unless the user chose
    -stab_eps_ncv: k > 1 on a commensurate grid asks Krylov-Schur to resolve about one gamma per ladder (docs/
    theory.md §5), and with thousands of ladders (Einstein: one per grid step of omega_E / 2) that is hours."""
    ncv = _ncv(k, m)
    if k <= 1 or ncv <= NCV_CLUSTER_MAX or PETSc.Options().hasName(PREFIX + "eps_ncv"):
        return
    hours = 1e-9 * ncv * ncv * L / 3600.0
    raise InputError(
        f"nev {k} on this grid asks SLEPc to resolve the ladder cluster of the commensurate comb ({m} ladders, about "
        f"one gamma each just above the slowest mode; docs/theory.md §5): a basis of {ncv} vectors, "
        f"{slow_modes_memory(L, k, 0, m) / 2**30:.1f} GiB and about {hours:.1f} h; give --nev 1 (the slowest mode, "
        "below the cluster), a grid step not commensurate with the modes (--grid-step), or choose the basis "
        "yourself with -stab_eps_ncv",
        "nev",
    )


def slow_modes_memory(L, k, m_nnz, ladders=0):
    """Bytes of :func:`slow_modes` for k wanted pairs: the Krylov basis (:func:`_ncv` vectors, twice for the
    projected work), the sparse Cholesky factor of M_hat (~6x its nonzeros, 12 bytes each) and the FFT work arrays
    of the shell product."""
    ncv = _ncv(k, ladders)
    return 8 * L * (2 * ncv + 64) + 12 * 6 * m_nnz + 8 * ncv * ncv * 4


def m_null_space(problem, Mh=None):
    """Orthonormal null vectors of M_hat (scipy CSR, L x m): the ladder null modes (docs/theory.md §5), from the signed
    bond graph of M_hat (:class:`.ladders.Ladders`)."""
    return Ladders(problem, problem.m_matrix(scaled=True) if Mh is None else Mh).N


class _DeflatedA:
    """Shell context of A~ = Q^T A_hat Q, Q = I - N G^-1 N^T A_hat, G = N^T A_hat N: the finite eigenpairs
    of (A_hat, M_hat) are those of (A~, M_hat + N N^T) on range(M_hat), with x = Q u; A~ N = 0.

    Since N^T A_hat Q = 0, A~ u = A_hat Q u = A_hat (u - N c), c = G^-1 N^T (A_hat u): two FFT products a call and
    the sparse N, no dense L x m block A_hat N (at refine 256, m = 127: 110 MB, and its two O(L m) products per
    call took as long as the FFT products)."""

    def __init__(self, problem, N, block=4):
        self.p, self.N = problem, N
        m = N.shape[1]
        # G = N^T A_hat N, 4 null vectors at a time: the FFT work arrays of a block (~64 L bytes a column) stay
        # cached with the kernel (16 columns: 110 MB at L = 10^5); factorised once
        G = np.hstack([N.T @ problem.ahat_matvec(N[:, j:j + block].toarray()) for j in range(0, m, block)]) \
            if m else np.zeros((0, 0))
        self.G = sla.lu_factor(0.5 * (G + G.T)) if m else None

    def _coefficients(self, Au):
        return sla.lu_solve(self.G, self.N.T @ Au)

    def q(self, u):
        """Q u (a vector or an L x k block)."""
        if self.G is None:  # no null modes: Q = I
            return u
        return u - self.N @ self._coefficients(self.p.ahat_matvec(u))

    def mult(self, mat, x, y):
        scatter(self.p.ahat_matvec(self.q(gather(x))), y)


class _GroundedOperator:
    """Shell context of C = L^-1 E^T A~ E L^-T, n = L - m (:class:`.ladders.GroundedCholesky`, B' = L L^T): the
    standard (HEP) form of the deflated pencil, whose eigenvalues are the finite mu of (A_hat, M_hat).  A product is
    two banded triangular solves and two FFT products (A~ = A_hat Q, :class:`_DeflatedA`); no B products, no
    B-orthogonalisation, no sparse factorisation to call."""

    def __init__(self, problem, N, chol):
        self.p, self.chol = problem, chol
        self.deflated = _DeflatedA(problem, N)

    def lift(self, W):
        """x = Q E L^-T w: the eigenvectors of (A_hat, M_hat) from those of C (a vector or an n x k block)."""
        Y = np.zeros((self.p.grid.L,) + np.shape(W)[1:])
        Y[self.chol.order] = self.chol.upper(W)
        return self.deflated.q(Y)

    def mult(self, mat, x, y):
        scatter(self.chol.lower(self.p.ahat_matvec(self.lift(gather(x)))[self.chol.order]), y)


class _DeflatedB:
    """Shell context of B = M_hat + N N^T (SPD) and, as a PC, its inverse
    B^-1 = P Mt^-1 P + N N^T with P = I - N N^T and Mt = M_hat + d sum_c e_jc e_jc^T (one pinned
    node per null vector, sparse Cholesky by MUMPS): for y in range(M_hat), Mt z = y forces
    z_jc = 0, so M_hat z = y and P z = M_hat^+ y."""

    def __init__(self, Mh, N):
        self.Mh, self.N = Mh, N
        pins = np.asarray(abs(N).argmax(axis=0)).ravel()
        d = np.zeros(Mh.shape[0])
        d[pins] = float(Mh.diagonal().max())
        Mt = (Mh + sp.diags(d)).tocsr()
        self.Mt = self.ksp = self.b = self.z = None
        self.rows = None  # on a group: (this rank's rows, every rank's rows in rank order, the exchange)
        try:  # the PETSc objects are this context's (free()); destroyed here if the set-up fails
            c = comm()
            if c.getSize() > 1:
                # Mt is block diagonal over the ladders (m_null_space): each rank factorises the ladders dealt to it,
                # alone (COMM_SELF), instead of one MUMPS factorisation over the group, whose solves on a banded
                # matrix cost 4x those of one rank (refine 64, 2 ranks: 32.5 s against 7.6 s, docs/benchmarks.md)
                mine, every = _deal_ladders(Mt, c.getSize(), c.getRank())
                self.rows = (mine, np.concatenate(every), concat_rows(c, [r.size for r in every]))
                PETSc, _ = init_petsc()
                with solving_on(PETSc.COMM_SELF):
                    if mine.size:  # fewer ladders than ranks: this one has none
                        self.Mt = aij(Mt[mine][:, mine].tocsr())
                        self.ksp = cholesky_ksp(self.Mt, require_mumps=True)
            else:
                self.Mt = aij(Mt)
                self.ksp = cholesky_ksp(self.Mt, require_mumps=True)
            if self.Mt is not None:
                self.b, self.z = self.Mt.createVecs()
        except BaseException:
            self.free()
            raise

    def mult(self, mat, x, y):
        u = gather(x)
        scatter(self.Mh @ u + self.N @ (self.N.T @ u), y)

    def pseudo_inverse(self, v):
        """M_hat^+ v = P Mt^-1 P v (numpy; collective on a group)."""
        v = v - self.N @ (self.N.T @ v)
        if self.rows is None:
            scatter(v, self.b)
            self.ksp.solve(self.b, self.z)
            z = gather(self.z)
        else:  # this rank's ladders solved alone, the pieces exchanged (one Allgatherv)
            mine, order, exchange = self.rows
            piece = np.zeros(0)
            if self.ksp is not None:
                self.b.array[:] = v[mine]
                self.ksp.solve(self.b, self.z)
                piece = self.z.array_r
            z = np.empty_like(v)
            z[order] = exchange(piece)
        return z - self.N @ (self.N.T @ z)

    def refine_null_space(self):
        """:func:`.ladders.polish_null_space` with M_hat^+ (the pinned factorisation); returns the new N."""
        self.N = polish_null_space(self.Mh, self.N, self.pseudo_inverse)
        return self.N

    def apply(self, pc, x, y):
        v = gather(x)
        scatter(self.pseudo_inverse(v) + self.N @ (self.N.T @ v), y)

    def free(self):
        destroy(self.ksp, self.Mt, self.b, self.z)
        self.ksp = self.Mt = self.b = self.z = None


class _MatrixFreeB:
    """Shell context of B = M_hat = M^ep_hat + a_ee M^ee_hat of Eq. (15), applied matrix-free (M^ee by FFT,
    M^ep by its stencil or, for many grid phonon frequencies, by FFT), and the preconditioner of the
    conjugate gradients that apply B^-1.

    The base preconditioner P1: few grid frequencies (combs), M^ep_hat + a_ee diag(M^ee_hat) factorised by
    SciPy's sparse LU (the ladders of M^ep: no fill to speak of; 0.1-0.4 ms per solve at L = 1600-4000,
    where MUMPS took ~3 ms a call, two thirds of the diagnostics of ``evolve --a-ee``).  Many (a continuous
    alpha^2F): M_hat^ep = diag(D_hat) - K_q is a multiplication minus a smoothing integral operator, its
    condition number bounded as L grows, and Jacobi (the exact diagonal) keeps CG at a fixed count (Pb model:
    7-8 iterations per solve at refine 4 and 16).

    With e-e collisions the temperature mode phi = E is the null vector of M^ee (energy conservation, Eq.
    (S24); docs/theory.md §5), so B has one eigenvalue a_ee times smaller than the rest, which P1 cannot see:
    P1^-1 B had the condition number 39 at a_ee = 200 and 1858 at 10^4 (Einstein, L = 800), and CG its
    iteration count growing with a_ee.  That mode z = E/s (scaled variables) is deflated exactly by the
    balancing preconditioner (Mandel's BNN, symmetric, so CG applies):
    P^-1 = (I - Q B) P1^-1 (I - B Q) + Q,  Q = z z^T / (z^T B z),
    for three dot products a call (B z formed once): condition number 3.7 at a_ee = 200 and 4.6 at 10^4, i.e.
    bounded in a_ee (CG iterations per solve in SLEPc's shift at L = 1600: 24.4 -> 20.9 at a_ee = 200,
    28.0 -> 22.0 at 10^4)."""

    def __init__(self, problem):
        self.p = problem
        self.lu = self.dinv = None
        if problem.ep_fft:
            self.dinv = 1.0 / problem.m_diagonal(scaled=True)
        else:
            import scipy.sparse.linalg as spla

            Mep = sp.csr_matrix(problem.m_sparse(scaled=True))
            Mt = (Mep + sp.diags(problem.m_diagonal(scaled=True) - Mep.diagonal())).tocsc()
            self.lu = spla.splu(Mt, permc_spec="MMD_AT_PLUS_A")
        self.z = self.Bz = None
        if problem.a_ee > 0:
            z = problem.E / problem.s
            z /= np.linalg.norm(z)
            Bz = problem.m_matvec(z, scaled=True)
            zBz = float(z @ Bz)
            if zBz > 0:
                self.z, self.Bz = z / np.sqrt(zBz), Bz / np.sqrt(zBz)  # z^T B z = 1: Q = z z^T

    def mult(self, mat, x, y):
        scatter(self.p.m_matvec(gather(x), scaled=True), y)

    def _base(self, v):
        return self.dinv * v if self.lu is None else self.lu.solve(v)

    def precondition(self, v):
        """P^-1 v (numpy): P1^-1 v, or with e-e collisions the balancing form that deflates the temperature mode."""
        v = np.asarray(v, dtype=float)
        if self.z is None:
            return self._base(v)
        z, Bz = self.z, self.Bz
        w = self._base(v - Bz * float(z @ v))  # P1^-1 (I - B Q) v
        return w - z * float(Bz @ w) + z * float(z @ v)  # (I - Q B) w + Q v

    def apply(self, pc, x, y):
        scatter(self.precondition(gather(x)), y)

    def free(self):
        self.lu = None


def _pencil_side(A, B, k, which, tol, max_it, prefix, pc_context=None, iterative=False, separated=False,
                 ladders=0):
    """k extreme eigenpairs mu of A x = mu B x (GHEP, B SPD; ST shift at 0: a MUMPS Cholesky of the
    AIJ B, or the Python PC ``pc_context`` applying B^-1 -- inside conjugate gradients when ``iterative``,
    for a matrix-free B), or of A x = mu x (``B`` None: HEP, A already in standard form).  ``separated``: the k
    wanted are known to be isolated (the discrete modes below a continuum, :func:`n_discrete`), so SLEPc's own
    basis size serves; ``ladders``: the number of ladder null modes (:func:`_ncv`).  Returns (mu, vectors,
    iterations)."""
    if B is None:
        st = {}
    else:
        st = dict(st_type="shift", **(dict(pc_type="python", pc_context=pc_context) if pc_context
                                      else dict(pc_type="cholesky", mumps=True)))
    if iterative:
        st["ksp_type"] = "cg"
    defaults = None if separated else {"eps_ncv": str(min(_ncv(k, ladders), A.getSize()[0]))}
    eps = None
    try:
        eps = create_eps(A, B, prefix=prefix, problem_type="HEP" if B is None else "GHEP", eps_type="krylovschur",
                         which=which, nev=k, tol=tol, max_it=max_it, defaults=defaults, **st)
        solve(eps, k)  # fewer than k converged: SolverFailed (status solver_failed), not a short list
        its = int(eps.getIterationNumber())
        # the k wanted come first in SLEPc's order (a cluster can converge 40 at once: their vectors, lifted, would
        # take 64 L bytes each)
        mu, X = eigenpairs(eps, k)
    finally:
        destroy(eps)
    return mu, X, its


def slow_modes(problem, nev=6, tol=1e-10, max_it=2000, negative=True):
    """The nev gamma nearest 0 on each side of gamma A phi = M phi (Eq. (14)), matrix-free, O(L) memory.

    gamma A phi = M phi  <=>  A_hat x = mu M_hat x with mu = 1/gamma (x = phi/s, docs/theory.md §3), so the
    gamma nearest 0 are the mu of largest |mu|: the slowest relaxation (gamma > 0) is the largest mu,
    the slowest growth (gamma < 0) the most negative mu.  SLEPc Krylov-Schur; A_hat is the FFT shell
    (:func:`ahat_shell`, Eq. (S20)).  Options ``-stab_`` (gamma > 0 side) and ``-stab_neg_`` (e.g. ``-stab_eps_ncv``).

    A comb (M_hat sparse, Eq. (S18) on the grid): ladder null modes of M (docs/theory.md §5; modes:40-60 has them on
    every grid refined by 4 or more, Einstein spectra on commensurate grids) come from the signed bond graph
    (:func:`m_null_space`, m of them) and are reported as gamma = 0.  M_hat grounded at one pin per null vector is
    banded along the ladders (:class:`.ladders.GroundedCholesky`): the other eigenpairs are those of the standard
    Hermitian problem C = L^-1 E^T A~ E L^-T (:class:`_GroundedOperator`), exact.  A band wider than BAND_MAX: the
    GHEP pencil (A~, M_hat + N N^T) (:class:`_DeflatedA`, :class:`_DeflatedB`, MUMPS; ST shift at 0), the null
    modes moved to mu = 0, or (A_hat, M_hat) with M_hat's MUMPS Cholesky when there are none.

    A continuous alpha^2F (FFT operators) has a continuous spectrum besides its modes (:func:`continuum_edges`):
    only the discrete gamma below its edges are computed, as many as :func:`n_discrete` counts (at most nev
    per side), and the edges are reported (``gamma_continuum_edge``, ``gamma_continuum_edge_negative``,
    ``n_discrete_positive``, ``n_discrete_negative``).

    ``negative=False`` skips the gamma < 0 side (A_hat > 0).  Returns a dict: gamma_positive and
    gamma_negative (ascending in |gamma|) with eigenvector columns phi = S x (max-normalised),
    n_zero_gamma, the SLEPc iteration counts.
    """
    PETSc, _ = init_petsc()
    L = problem.grid.L
    # with e-e collisions M couples the ladders (Eq. (S25)), and a continuous alpha^2F (FFT operators, one
    # grid frequency per step of its support) joins every ladder: no null modes, B applied matrix-free
    ee = problem.a_ee > 0 or problem.ep_fft
    # the sparse M_hat only where it is the operator (combs): its nonzeros enter the memory estimate
    Mh = None if ee else problem.m_matrix(scaled=True)
    m_nnz = L if problem.ep_fft else (Mh.nnz if Mh is not None else (2 * problem.r.size + 1) * L)
    N, chol = sp.csr_matrix((L, 0)), None
    if not ee:
        ladders = Ladders(problem, Mh)
        N = ladders.N
        # a comb on a commensurate grid: M_hat grounded at its pins is banded along the ladders -- the standard form
        # with one banded Cholesky; a band wider than BAND_MAX (a grid not commensurate with the modes): MUMPS
        chol = GroundedCholesky(Mh, ladders, problem.E)
        if chol.band > BAND_MAX:
            chol = None
    m = N.shape[1]
    k = min(nev, L - m - 1)
    _check_cluster(PETSc, k, m, L)
    # the deflation forms G = N^T A_hat N a block of 4 columns at a time; the banded factor replaces MUMPS's
    factor = chol.nbytes() if chol is not None else 12 * 6 * m_nnz
    check_memory(slow_modes_memory(L, k, 0, m) + factor + 8 * m * m + 4 * 64 * L,
                 f"the slow modes (L = {L}, nev = {nev}, {m} ladder null modes of M)", "nev", "lower --nev or --refine")
    out = {"n_zero_gamma": m, "iterations": {}}
    ctxA = ctxB = A = B = None
    try:  # every PETSc object of the solve (the shells, M_hat's AIJ, the contexts' factorisations) lives here
        if ee:
            ctxB = _MatrixFreeB(problem)
            A = ahat_shell(problem)
            B = _shell(PETSc, L, ctxB)
        elif chol is not None:
            N = chol.factorise().polish(Mh, N)
            ctxA = _GroundedOperator(problem, N, chol)
            A = _shell(PETSc, chol.order.size, ctxA)
        elif m:
            ctxB = _DeflatedB(Mh, N)
            N = ctxB.refine_null_space()
            ctxA = _DeflatedA(problem, N)
            A = _shell(PETSc, L, ctxA)
            B = _shell(PETSc, L, ctxB)
        else:
            A, B = ahat_shell(problem), aij(Mh)
        # a continuous alpha^2F: only the discrete modes, counted exactly below the continuum's edges (the nev
        # nearest 0 would be samples of the continuous spectrum, a cluster SLEPc converges in O(L) restarts)
        ks = {"positive": k, "negative": k}
        if problem.ep_fft:
            edges = continuum_edges(problem)
            out["gamma_continuum_edge"], out["gamma_continuum_edge_negative"] = edges
            for name, edge in zip(ks, edges):
                if edge is not None:
                    ks[name] = min(k, n_discrete(problem, (1.0 - CONTINUUM_MARGIN) * edge, k))
                    out["n_discrete_" + name] = ks[name]
        sides = [("positive", "LARGEST_REAL", "")] + ([("negative", "SMALLEST_REAL", "neg_")] if negative else [])
        for name, which, sub in sides:
            sign = 1.0 if name == "positive" else -1.0
            if ks[name] == 0:
                out["iterations"][name] = 0
                out["gamma_" + name], out["vectors_" + name] = np.zeros(0), np.zeros((L, 0))
                continue
            mu, X, its = _pencil_side(A, B, ks[name], which, tol, max_it, PREFIX + sub, ctxB, iterative=ee,
                                      separated=problem.ep_fft, ladders=m)
            out["iterations"][name] = its
            if isinstance(ctxA, _GroundedOperator):
                X = ctxA.lift(X)
            elif ctxA is not None and X.size:
                X = ctxA.q(X)
            # the deflated null modes sit at mu = 0 (round-off sign): never a gamma
            keep = sign * mu > NULL_GAMMA_REL * max(1.0, float(np.max(np.abs(mu))) if mu.size else 1.0)
            g, V = 1.0 / mu[keep], X[:, keep] * problem.s[:, None]
            order = np.argsort(np.abs(g))[:nev]
            g, V = g[order], V[:, order]
            if V.size:
                V = V / np.max(np.abs(V), axis=0)
            out["gamma_" + name], out["vectors_" + name] = g, V
        if not negative:
            out["gamma_negative"], out["vectors_negative"] = np.zeros(0), np.zeros((L, 0))
    finally:
        destroy(A, B)
        if ctxB is not None:
            ctxB.free()
    return out


def _shell(PETSc, L, context):
    """An L x L Python shell Mat on :func:`comm` with ``context`` (destroyed here if its set-up fails)."""
    M = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=context, comm=comm())
    try:
        M.setUp()
    except BaseException:
        M.destroy()
        raise
    return M
