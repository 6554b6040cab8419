"""Energy grids for the linearised and kinetic equations.

The folded grid of seed 000 Sec. S2: E_i = i eps, i = 1..L, Lambda = L eps, with
particle-hole symmetry phi(-E) = -phi(E) (delta f odd) and phi(0) = 0.  Phonon
frequencies enter as integers r_k = omega_k/eps: delta peaks that are not
commensurate with eps, and continuous alpha^2F, are projected onto the grid
frequencies m*eps (:func:`project_spectrum`), which keeps int alpha^2F and
int omega alpha^2F exactly (linear split between the two neighbours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError, require_positive

__all__ = ["FoldedGrid", "project_spectrum", "default_grid", "phonon_scale", "check_memory", "available_memory",
           "address_space_left", "linear_problem_bytes", "kinetic_bytes", "DENSE_MAX"]

#: largest number of grid points L at which an L x L matrix is formed and factorised densely (LAPACK):
#: 72 MB and a ~1 s O(L^3) factorisation at L = 3000; above it only sparse/FFT operators (and Krylov solvers).
#: The kinetic rate's dense solve (``pde.kinetic``) and the stability engines' dense eigen/inertia paths
#: (``ephkin.solvers.stability``) share it.
DENSE_MAX = 3000


@dataclass(frozen=True)
class FoldedGrid:
    """Uniform folded grid E_i = i*eps, i = 1..L (seed 000 Eq. (S19)-(S21))."""

    eps: float
    L: int

    @property
    def E(self):
        return self.eps * np.arange(1, self.L + 1, dtype=float)

    @property
    def cutoff(self):
        return self.eps * self.L


def project_spectrum(spectrum, eps, h=None):
    """alpha^2F as integer grid frequencies: returns (r, lam_r) with omega = r*eps, lambda_r = 2 w/omega.

    A continuous alpha^2F is integrated with quadrature panels no wider than min(h, eps), so every grid
    frequency in its support gets its share (the integral of alpha^2F against the hat function of width
    eps): a smooth sequence of weights, as many grid frequencies as steps in the support.

    A node omega_k between m*eps and (m+1)*eps is split linearly between the
    two (weights (1-t), t with t = omega_k/eps - m), so that int alpha^2F and
    g^2 = 2 int omega alpha^2F are kept exactly; nodes within 1e-9 of a grid
    frequency are put on it.

    A continuous alpha^2F whose support starts at omega = 0 (Debye, most
    tabulated files) has nodes below eps.  Their split goes to the frequencies 0
    and eps; the part at omega = 0 is dropped, because a zero-frequency mode
    carries no coupling in any kernel of seed 000 (the kernel of A, Eq. (S20),
    the bonds of M, Eq. (S18), and Z0^-1, Eq. (5), all vanish with omega_k).
    This keeps g^2 exactly and changes lambda by the weight of (0, eps), which is
    O((eps/omega_log)^2) for alpha^2F ~ omega^2.  A delta peak below eps is an
    error: the grid does not resolve it.
    """
    # quadrature panels no wider than the grid step: with panels of a thermal width (h ~ T/4) on a finer
    # grid, the nodes of a continuous alpha^2F would leave grid frequencies empty -- an irregular comb,
    # whose ladder-like grid modes are spurious slow gammas (Pb model, refine 16: gamma_min 0.05630 against
    # the converged 0.05656) -- instead of every grid frequency's share of alpha^2F (its hat-function integral)
    h = eps if h is None else min(float(h), eps)
    om, w = spectrum.nodes(h)
    x = om / eps
    m = np.floor(x + 1e-9).astype(np.int64)
    t = np.where(np.abs(x - np.rint(x)) < 1e-9, 0.0, x - m)
    low = m < 1
    if spectrum.omega.size and spectrum.omega.min() / eps < 1.0 - 1e-9:
        raise InputError(
            f"grid step {eps:g} does not resolve the phonon frequency {spectrum.omega.min():g}; "
            "use a finer grid (refine or grid_step)",
            "grid_step",
        )
    r = np.concatenate([m, m + 1])
    wr = np.concatenate([np.where(low, 0.0, w * (1 - t)), w * t])
    keep = (wr > 0) & (r >= 1)
    r, wr = r[keep], wr[keep]
    uniq, inv = np.unique(r, return_inverse=True)
    wsum = np.bincount(inv, weights=wr)
    return uniq, 2.0 * wsum / (uniq * eps)


def phonon_scale(spectrum):
    """The phonon frequency a grid or an energy scan must resolve.

    Delta peaks: the lowest peak.  A continuous alpha^2F: its logarithmic mean
    frequency omega_log = exp(2/lambda int ln(omega) alpha^2F/omega) (seed 000
    Eq. (7), seed 002), not the lower end of its support, which is 0 for Debye
    and for most tabulated spectra.  Z0^-1 (Eq. (5)) and the kernels of Eq. (14)
    are smooth on the scale of T0 (poles at distance pi T0 from the real axis)
    and of the spectrum's structure, which the moments describe.
    """
    scales = []
    if spectrum.omega.size:
        scales.append(float(spectrum.omega.min()))
    if spectrum.density is not None:
        scales.append(float(spectrum.omega_log))
    return min(scales)


# bytes per grid point held by a LinearizedProblem: E, Z0^-1, f0, f0', s, sqrt(-f0') (6 doubles),
# the kernel generators t (L) and h (2L), their FFTs (2 x (n/2 + 1) complex with n <= 6L) and
# the temporaries of one FFT product (two rfft and two irfft of length n)
_BYTES_PER_POINT = 8 * (6 + 3 + 2) + 16 * 6 + (2 * 8 * 6 + 2 * 8 * 6)
# bytes per nonzero of the sparse M^ep while it is assembled (COO rows, cols, values,
# their concatenation and the CSR result)
_BYTES_PER_NONZERO = 96


# bytes per grid point of a kinetic run (pde.kinetic.KineticModel and its PETSc TS): the state, the history,
# Newton and GMRES vectors, the FFT kernel K with its work arrays, the e-ph operators; measured peak RSS less the
# ~110 MB of a started interpreter (docs/benchmarks.md, issue 29), rounded up
_KINETIC_BYTES_PER_POINT = 1000
_KINETIC_BYTES_PER_PAD = 100  # per point of the padding beyond the cutoff (the generator's prefix sums, at set-up)


def kinetic_bytes(L, pad):
    """Estimated peak bytes of a kinetic run (Eq. (15)) on L grid points with an extended grid of L + pad."""
    return _KINETIC_BYTES_PER_POINT * L + _KINETIC_BYTES_PER_PAD * pad


def _first_number(path, key=None):
    """The number after ``key`` in a /proc or /sys file (the file's first word without a key), in bytes for
    /proc's "kB" lines; None if unreadable or "max"."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if key is None:
                    word = line.split()[0]
                    return None if word == "max" else int(word)
                if line.startswith(key):
                    parts = line.split()
                    return int(parts[1]) * (1024 if parts[-1] == "kB" else 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def address_space_left():
    """Bytes of address space left under ``ulimit -v`` (RLIMIT_AS less the current VmSize), None without a limit
    (or where the limit cannot be read)."""
    try:
        import resource
    except ImportError:  # not POSIX: no such limit
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft == resource.RLIM_INFINITY:
        return None
    return max(soft - (_first_number("/proc/self/status", "VmSize:") or 0), 0)


def available_memory():
    """Bytes a new allocation of this process can get (None if unknown): the least of MemAvailable, the address
    space left under ``ulimit -v`` (:func:`address_space_left`) and the cgroup's memory.max less its
    memory.current (a batch job's limit)."""
    limits = [_first_number("/proc/meminfo", "MemAvailable:"), address_space_left()]
    cg_max = _first_number("/sys/fs/cgroup/memory.max")
    cg_now = _first_number("/sys/fs/cgroup/memory.current")
    if cg_max is not None and cg_now is not None:
        limits.append(max(cg_max - cg_now, 0))
    known = [x for x in limits if x is not None]
    return min(known) if known else None


def _gib(n):
    return f"{n / 2**30:.3g} GiB"


def check_memory(nbytes, what, fix="use a coarser grid (a smaller refine or a larger grid_step) or a lower cutoff",
                 param="refine"):
    """Raise InputError (``param``) if ``nbytes`` exceed the machine's available memory (MemAvailable)."""
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise InputError(
            f"{what} needs about {_gib(nbytes)}, more than the {_gib(avail)} of memory available "
            f"(MemAvailable, ulimit -v, the job's cgroup); {fix}",
            param,
        )
    return nbytes


def linear_problem_bytes(L, n_modes=0):
    """Estimated bytes of a LinearizedProblem on L grid points (vectors and the FFT kernel), plus M^ep
    (Eq. (S18) on the grid) with ``n_modes`` grid frequencies: about (2 n_modes + 1) L nonzeros."""
    return _BYTES_PER_POINT * L + _BYTES_PER_NONZERO * (2 * n_modes + 1) * L * (n_modes > 0)


def default_grid(spectrum, T0, refine=1, grid_step=None, cutoff=None, points=None):
    """The default folded grid for ``spectrum`` at temperature T0 (seed 000 Sec. S2, Eqs. (S19)-(S21)).

    Step: the spectrum's own commensurability unit where it has one (``modes``:
    eps with omega_k = r_k eps, seed 000 Table S1; one Einstein/peak mode:
    Omega/100), otherwise min(T0/8, omega_max/200, scale/8) with ``scale`` from
    :func:`phonon_scale` (lowest delta peak, or omega_log of a continuous
    alpha^2F); divided by the smallest integer that makes it <= T0/4, and by
    ``refine``.
    Cutoff: max(2 omega_max + 30 T0, 6 g) (the seed used Lambda >= 6g), so that
    f0'(Lambda) < 1e-13; ``points`` fixes L instead (the cutoff is then L eps).
    Raises InputError (naming the parameter) for T0 <= 0, grids that do not
    resolve T0 or the phonon scale, cutoffs that do not cover the spectrum and
    f0', and grids whose vectors would not fit in the available memory -- all
    before anything of size L is allocated.
    """
    T0 = require_positive("T0", T0, "give the temperature T0 > 0")
    try:
        ok = float(refine) >= 1 and int(refine) == float(refine)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InputError(f"refine must be a positive integer (got {refine!r})", "refine")
    scale = phonon_scale(spectrum)
    if grid_step is None:
        base = _commensurate_step(spectrum)
        if base is None:
            base = min(T0 / 8.0, spectrum.omega_max / 200.0, scale / 8.0)
        # keep at least 4 points per T0, by an integer factor so that the modes stay on the grid
        grid_step = base / (refine * max(1, math.ceil(base / (T0 / 4.0) - 1e-12)))
        param = "refine"
    else:
        grid_step = require_positive("grid_step", grid_step, "give the energy grid step eps > 0")
        param = "grid_step"
    eps = float(grid_step)
    if eps > T0 / 4.0:
        raise InputError(
            f"grid step {eps:g} does not resolve T0 = {T0:g} (need step <= T0/4); use a finer grid "
            "(refine or grid_step)",
            param,
        )
    if scale / eps < 4.0 - 1e-9:
        what = "lowest phonon frequency" if spectrum.density is None else "phonon scale omega_log"
        raise InputError(
            f"grid step {eps:g} does not resolve the {what} {scale:g} "
            "(need >= 4 points per frequency); use a finer grid (refine or grid_step)",
            param,
        )
    if points is not None:
        cutoff = int(points) * eps
    if cutoff is None:
        lam_cut = max(2.0 * spectrum.omega_max + 30.0 * T0, 6.0 * spectrum.g)
    else:
        lam_cut = require_positive("cutoff", cutoff, "give the energy cutoff Lambda > 0")
    if lam_cut < 25.0 * T0:
        raise InputError(
            f"cutoff {lam_cut:g} is too small for the tail of f0' at T0 = {T0:g} "
            f"(need >= 25 T0 = {25 * T0:g}); raise the cutoff",
            "cutoff",
        )
    if lam_cut <= spectrum.omega_max:
        raise InputError(
            f"cutoff {lam_cut:g} must exceed the highest phonon frequency {spectrum.omega_max:g}; raise the cutoff",
            "cutoff",
        )
    L = math.ceil(lam_cut / eps - 1e-9)
    check_memory(linear_problem_bytes(L), f"a folded grid of L = {L:.4g} points (step {eps:g}, cutoff {lam_cut:g})",
                 param=param)
    return FoldedGrid(eps, int(L))


def _commensurate_step(spectrum):
    if spectrum.density is not None or spectrum.omega.size == 0:
        return None
    if spectrum.kind.startswith("modes:"):
        r_max = int(spectrum.kind.split("-")[1])
        return spectrum.omega_max / r_max
    if spectrum.omega.size == 1:
        # a single mode converges more slowly than a spread of modes (the critical eigenvector has
        # log-type features at E +- Omega): Omega/100 keeps lambda_c within 1e-3 of its limit
        return spectrum.omega[0] / 100.0
    return None


def graded_nodes(T0, cutoff, focus=(), h_min=None, h_max=None, growth=1.08):
    """Nonuniform nodes on (0, cutoff]: spacing h_min within a few T0 of E = 0 and of the
    energies in ``focus`` (e.g. the minimum and zeros of Z0^-1), growing geometrically by
    ``growth`` per node away from them, capped at h_max.  Returns an increasing array.
    """
    h_min = T0 / 8.0 if h_min is None else h_min
    h_max = 2.0 * T0 if h_max is None else h_max
    if not 0 < h_min <= h_max or growth <= 1.0:
        raise InputError(
            f"graded grid needs 0 < h_min <= h_max and growth > 1 (got {h_min}, {h_max}, {growth})",
            "h_min",
        )
    centres = np.array([0.0] + [float(e) for e in focus])

    def spacing(E):
        # geometric growth away from the nearest centre, outside a plateau of 3 T0
        dist = np.maximum(np.min(np.abs(E - centres)) - 3.0 * T0, 0.0)
        return min(h_max, h_min + (growth - 1.0) * dist)

    nodes, E = [], 0.0
    while True:
        E += spacing(E)
        if E >= cutoff - 0.5 * spacing(E):
            break
        nodes.append(E)
    nodes.append(cutoff)
    return np.asarray(nodes)


def hat_interpolation(nodes, E):
    """Sparse P with (P phi)(E_i) = piecewise-linear interpolation of nodal values phi_n, phi(0) = 0."""
    import scipy.sparse as sp

    x = np.concatenate([[0.0], np.asarray(nodes, dtype=float)])
    k = np.clip(np.searchsorted(x, E, side="right") - 1, 0, x.size - 2)
    t = (E - x[k]) / (x[k + 1] - x[k])
    rows = np.concatenate([np.arange(E.size), np.arange(E.size)])
    cols = np.concatenate([k - 1, k])  # node index n = k - 1 (node 0 at E = 0 carries phi = 0)
    vals = np.concatenate([1.0 - t, t])
    keep = (cols >= 0) & (vals != 0.0)
    return sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(E.size, x.size - 1))
