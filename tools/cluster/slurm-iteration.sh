#!/usr/bin/env bash
# One iteration on Slurm: export (1 task) → rollout as a job array of N slices → learn (1 task), chained with
# dependencies. The run directory must be on storage every node sees.
#
#   tools/cluster/slurm-iteration.sh pipeline.yaml /cluster/runs/my-run 3 8     # config, run dir, iteration, slices
#
# Each array task k runs `aspo rollout --shard k/N` and writes iter-I/shards/part-0000k.parquet (atomically, so a
# requeued task is safe); learn reads every part and refuses to start if one is missing.
set -euo pipefail
config=${1:?usage: slurm-iteration.sh CONFIG RUN_DIR ITERATION SLICES}
run_dir=${2:?run directory}
iteration=${3:?iteration}
slices=${4:?number of rollout slices}
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
aspo="$repo/tools/aspo"

export_job=$(sbatch --parsable --job-name="aspo-export-$iteration" --cpus-per-task=2 --mem=8G \
  --wrap="$aspo export --config $config --output $run_dir --iteration $iteration")
rollout_job=$(sbatch --parsable --job-name="aspo-rollout-$iteration" --dependency="afterok:$export_job" \
  --array="0-$((slices - 1))" --cpus-per-task=2 --mem=8G \
  --wrap="$aspo rollout $config --output $run_dir --iteration $iteration --shard \${SLURM_ARRAY_TASK_ID}/$slices")
learn_job=$(sbatch --parsable --job-name="aspo-learn-$iteration" --dependency="afterok:$rollout_job" \
  --cpus-per-task=8 --mem=32G \
  --wrap="$aspo learn $config --output $run_dir --iteration $iteration")
echo "iteration $iteration: export $export_job → rollout array $rollout_job (${slices} slices) → learn $learn_job"
