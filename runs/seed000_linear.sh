#!/usr/bin/env bash
# Seed 000, linear stability: Table S1 (both columns, both kernels), Fig. 2 (gamma vs lambda),
# Fig. S1 (eigenvectors), Fig. S2 (lambda_c(T0)), and a grid-convergence study of lambda_c.
# Run from the repository root after `make test` (or `make run`) has built .venv:
#     bash runs/seed000_linear.sh [OUTDIR]
# Expected output is described in runs/README.md.
set -euo pipefail
OUT=${1:-out/seed000_linear}
EPHKIN=${EPHKIN:-.venv/bin/ephkin}
T0S="0.180 0.192 0.204 0.217 0.229 0.241 0.253 0.266 0.278"
mkdir -p "$OUT"
# Fig. S2 with the three criteria (Z0, exact kernel, paper kernel) and the C_el bound; Fig. 1 insets, Fig. 3
$EPHKIN run -o "$OUT/default"
# Table S1 column 3 (Z0 criterion) and Fig. S2 crosses
$EPHKIN lambda-c --spectrum modes:40-60 --T0 $T0S -o "$OUT/table_s1_zinv"
# Table S1 column 2 (paper kernel) and the corrected values (exact kernel)
$EPHKIN lambda-c --spectrum modes:40-60 --T0 $T0S --method linear --kernel paper -o "$OUT/table_s1_paper"
$EPHKIN lambda-c --spectrum modes:40-60 --T0 $T0S --method linear --kernel exact -o "$OUT/table_s1_exact"
# Fig. 2 (gamma vs lambda at T0 = 0.20) and Fig. S1 (eigenvectors at lambda = 5), both kernels
for k in exact paper; do
  $EPHKIN stability --spectrum modes:40-60 --T0 0.20 --lam 5.0 --nev 8 --kernel $k \
      --lam-scan 1.0 2.0 41 -o "$OUT/fig2_S1_$k"
done
# grid convergence of lambda_c (exact kernel), observed order and Richardson estimate
$EPHKIN lambda-c --spectrum modes:40-60 --T0 0.204 --method linear --converge 5 --json > "$OUT/converge.json"
$EPHKIN lambda-c --spectrum modes:40-60 --T0 0.204 --method linear --converge 5 --pv dropped --json \
    > "$OUT/converge_dropped.json"
# nonuniform (graded) grid: Rayleigh-Ritz on hat functions, convergence towards the fine uniform grid
for h in 0.05 0.025 0.0125; do
  $EPHKIN lambda-c --spectrum modes:40-60 --T0 0.204 --method linear --grid graded --refine 4 --h-min $h --json
done > "$OUT/graded.jsonl"
echo "results in $OUT"
