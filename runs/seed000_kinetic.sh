#!/usr/bin/env bash
# Seed 000, full kinetic equation: Fig. 1 (a) unstable lambda = 2.169 and (b) stable lambda = 1.0
# (Einstein, T0 = 0.20, T_in = 0.202), the 21-mode relaxation at the slowest linear rate, and the
# two-temperature runaway of Fig. 3.  Run from the repository root after `make test` or `make run`:
#     bash runs/seed000_kinetic.sh [OUTDIR]
set -euo pipefail
OUT=${1:-out/seed000_kinetic}
EPHKIN=${EPHKIN:-.venv/bin/ephkin}
mkdir -p "$OUT"
# Fig. 1(a): growth between the zeros of Z0^-1 (0.930, 1.302); TS stops when dt collapses
$EPHKIN evolve --spectrum einstein --lam 2.169 --T0 0.20 --T-in 0.202 --t-end 20 -o "$OUT/fig1a"
# Fig. 1(b): relaxation; ~62% of the deviation sits in conserved ladder modes (SPEC section 5)
$EPHKIN evolve --spectrum einstein --lam 1.0 --T0 0.20 --T-in 0.202 --t-end 20 -o "$OUT/fig1b"
# modes:40-60: late-time decay at gamma_min = 0.00752 (linear analysis)
$EPHKIN evolve --spectrum modes:40-60 --lam 1.0 --T0 0.20 --T-in 0.202 --t-end 400 -o "$OUT/modes_relax"
# Fig. 3 dynamics: C_el < 0 at T0 = 0.5 Omega (lambda = 4.5): T runs to T_+ = 0.666 / T_- = 0.390
$EPHKIN two-temp --spectrum einstein --lam 4.5 --T0 0.5 --T-in 0.505 -o "$OUT/two_temp_up"
$EPHKIN two-temp --spectrum einstein --lam 4.5 --T0 0.5 --T-in 0.495 -o "$OUT/two_temp_down"
echo "results in $OUT"
