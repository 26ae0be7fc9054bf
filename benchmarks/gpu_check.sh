#!/usr/bin/env bash
# seqkit's GPU check, as one prepared script, for a GPU machine WITHOUT TensorFlow (JAX, jaxlib,
# PyTorch and Python 3.12 there; TensorFlow's GPU wheels are too large to carry). Run from the
# repository root:
#
#   bash benchmarks/gpu_check.sh                 # logs and JSON under $OUT (default ./gpu-check-out)
#   GPU_CHECK_DRY=1 bash benchmarks/gpu_check.sh # the same steps on a CPU, tiny sizes (the suite runs this)
#
# Steps, each under its own time limit so that the logs come back even if one hangs:
#   1. the card (nvidia-smi), Keras from carried wheels if the machine has none (.whl/*.whl:
#      keras, namex, optree), seqkit from this source tree, JAX's devices;
#   2. the HLO replay: seqkit's XLA programs, exported on a CPU with TensorFlow by
#      benchmarks/hlo_export.py into $HLO (carried), compiled and run with jaxlib
#      (benchmarks/gpu_replay.py): compile time, ms per step, outputs against the CPU's, TF32 on/off;
#   3. seqkit's StreamTrainer on Keras's JAX backend through its public API in a process where
#      `import tensorflow` fails (tests/jax_worker.py): trains, generates, saves a bundle;
#   4. stream training on the JAX backend against PyTorch's cuDNN nn.LSTM, same model, batches and
#      steps (benchmarks/gpu_stream.py): characters per second and the loss after the same steps.
# Exit status: 0 every step ran; 1 a step failed (see summary.txt); 3 no JAX or no Keras.
# A machine with TensorFlow and a GPU runs benchmarks/devices.py and `pytest -m gpu` instead.
set -uo pipefail

OUT="${OUT:-$PWD/gpu-check-out}"
HLO="${HLO:-benchmarks/.cache/hlo}"
DRY="${GPU_CHECK_DRY:-0}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
say() { echo "[gpu_check $(date +%H:%M:%S)] $*" | tee -a "$SUMMARY"; }
started=$(date +%s)
failed=0
step() {  # step NAME SECONDS COMMAND...: run, log to $OUT/NAME.txt, note the exit status
    local name="$1" limit="$2"
    shift 2
    say "$name: $*"
    timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1
    local status=$?
    [ "$status" -eq 0 ] || failed=1
    say "$name exit $status after $(( $(date +%s) - started )) s: $(tail -n 1 "$OUT/$name.txt")"
}

# 1. The card, Keras, seqkit, JAX ---------------------------------------------------------
{ nvidia-smi || echo "nvidia-smi failed"; } >"$OUT/nvidia-smi.txt" 2>&1
say "card: $(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo none)"
if ! "$PY" -c "import keras" >/dev/null 2>&1 && compgen -G ".whl/*.whl" >/dev/null; then
    say "installing the carried wheels from .whl"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/seqkit-site .whl/*.whl \
        >>"$OUT/install.txt" 2>&1 || say "pip install of .whl failed (see install.txt)"
    export PYTHONPATH="/tmp/seqkit-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PY" -c "import jax, keras, seqkit.engine.jax_loop" >>"$SUMMARY" 2>&1; then
    say "no JAX or no Keras on $PY: exit 3"
    exit 3
fi
"$PY" -c "import jax, keras; print('python', __import__('sys').version.split()[0], 'jax', jax.__version__, 'keras', keras.__version__, 'backend', keras.config.backend(), 'devices', jax.devices())" >>"$SUMMARY" 2>&1
if [ "$DRY" = 1 ]; then
    say "dry run (GPU_CHECK_DRY=1): CPU, tiny sizes"
    export JAX_PLATFORMS=cpu
    DRY_FLAG=(--dry)
else
    DRY_FLAG=()
fi

# 2. The HLO replay -----------------------------------------------------------------------
if [ -f "$HLO/manifest.json" ] || compgen -G "$HLO/*/manifest.json" >/dev/null; then
    step replay 150 "$PY" benchmarks/gpu_replay.py --folder "$HLO" "${DRY_FLAG[@]}" --json "$OUT/replay.json"
else
    say "replay skipped: no exported programs in $HLO (make them with benchmarks/hlo_export.py where TensorFlow is)"
    failed=1
fi

# 3. The public API on the JAX backend, TensorFlow unimportable ---------------------------
step trainer 120 "$PY" tests/jax_worker.py train "$OUT/jax-gpu.seqkit"

# 4. seqkit on JAX against PyTorch's cuDNN LSTM ----------------------------------------------
step stream 300 "$PY" benchmarks/gpu_stream.py "${DRY_FLAG[@]}" --json "$OUT/gpu-stream.json"

say "done in $(( $(date +%s) - started )) s"
exit "$failed"
