"""ephkin from Python: the seed 000 numbers a notebook would start from.

Run it with ``.venv/bin/python docs/example_api.py``; the test suite runs it too
(tests/test_architecture.py), so every line here works.
"""

from ephkin.solvers import api

# Table S1 of seed 000, column 3 (Z0 criterion), T0 = 0.180 g: the seed prints 1.1333
row = api.lambda_c("modes:40-60", 0.180)
print(f"lambda_c(Z0) = {row['lambda_c']:.5f}, C_el < 0 above lambda = {row['lambda_c_cel']:.3f}")

# the same from the linear problem (Eq. (14)), the corrected kernel (docs/kernel.md)
lin = api.lambda_c("modes:40-60", 0.204, method="linear")
print(f"lambda_c(linear, exact kernel, T0 = 0.204) = {lin['lambda_c']:.5f} on L = {lin['L']} points")

# Z0^-1(E) for the Einstein example of the main text (lambda = 2.169, T0 = 0.20 g): two zeros
z = api.zinv(0.20, "einstein", lam=2.169)
print(f"Z0^-1 < 0 between E = {z['zeros'][0]:.3f} and {z['zeros'][1]:.3f}")

# the gamma spectrum of gamma A phi = M phi at lambda = 5: unstable modes and the slowest stable one
st = api.stability("modes:40-60", lam=5.0, T0=0.20, nev=4)
print(f"{st['n_negative']} unstable modes; slowest relaxation gamma = {st['gamma_min_positive']:.5f}")

# the full kinetic equation from f0(T_in): relaxation back to f0(T0)
ev = api.evolve("einstein", lam=1.0, T0=0.20, T_in=0.202, t_end=2.0)
print(f"evolve: {ev['status']} after {ev['steps']} steps, max|f - f0| = {ev['max_deviation']:.2e}")

# seed 001: sigma/sigma0 of the zeta -> infinity state, Eq. (8)
nac = api.nac_sigma(omega_p=0.5, zeta=float("inf"), mu=0.0)
print(f"NAC: sigma/sigma0 = {nac['sigma_over_sigma0']:.4f}")

# seed 003: the analytic avalanche field, Eq. (11)
av = api.avalanche_criterion(g_ep=0.1, gamma=0.002, omega0=0.3)
print(f"avalanche: E_av = {av['E_av']:.6f} (beta = {av['beta']:.2f} > beta_c = {av['beta_c']:.3f})")
