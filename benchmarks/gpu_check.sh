#!/usr/bin/env bash
# The GPU check of issue 11, as one prepared script: run from the repository root on a GPU machine.
#
#   bash benchmarks/gpu_check.sh            # logs under $OUT (default ./gpu-check-out)
#
# Steps, each under its own time limit so that the logs come back even if one hangs:
#   1. the card (nvidia-smi) and a Python with TensorFlow + seqkit (see "TensorFlow" below);
#   2. TensorFlow must see the GPU (else exit 4: the GPU tests would only skip);
#   3. seqkit info --json;
#   4. python -m pytest -m gpu tests/test_gpu.py (the GPU-marked tests), JUnit XML beside the log;
#   5. benchmarks/devices.py --budget $BUDGET --json (sweep, stream training, tutorial experiments).
# Exit status: 0 all ran and passed, 1 tests failed, 3 no TensorFlow, 4 no GPU visible to TensorFlow.
# GPU_CHECK_ALLOW_CPU=1 goes on without a GPU (a dry run of the script: GPU tests skip, devices.py --quick).
#
# TensorFlow: seqkit needs tensorflow (2.21, built against CUDA 12.5 / cuDNN 9) and its CUDA 12
# libraries. In order of preference this script uses
#   a. a python3 that already imports tensorflow (PYTHON=... to name another);
#   b. wheels carried in ./.whl (pip install --no-index --target /tmp/site .whl/*.whl);
#   c. pip from an index, if the machine reaches one: a venv with 'tensorflow[and-cuda]==2.21.*'.
# The workplace's lent H100/H200 machines have none of these: no TensorFlow in their image, no
# network, and a 64 MiB limit on what a call carries, while the tensorflow wheel alone is ~550 MiB
# and the CUDA 12 cuDNN and cuBLAS wheels ~670 and ~550 MiB. There the script stops at step 1
# with exit 3 within seconds.
set -uo pipefail

OUT="${OUT:-$PWD/gpu-check-out}"
BUDGET="${BUDGET:-240}"          # seconds of benchmarking before devices.py skips the rest
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
say() { echo "[gpu_check $(date +%H:%M:%S)] $*" | tee -a "$SUMMARY"; }
started=$(date +%s)

# 1. The card and a Python with TensorFlow -------------------------------------------------
{ nvidia-smi || echo "nvidia-smi failed"; } >"$OUT/nvidia-smi.txt" 2>&1
say "card: $(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo unknown)"

PY="${PYTHON:-python3}"
has_tensorflow() { "$1" -c "import tensorflow" >/dev/null 2>&1; }

if has_tensorflow "$PY"; then
    say "using $PY (TensorFlow already installed)"
elif compgen -G ".whl/*.whl" >/dev/null; then
    say "installing the carried wheels from .whl"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        >>"$OUT/install.txt" 2>&1 || say "pip install of .whl failed (see install.txt)"
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
elif timeout 20 "$PY" -m pip download --no-deps -q -d /tmp/probe-index "six" >/dev/null 2>&1; then
    say "an index is reachable: a venv with tensorflow[and-cuda]==2.21.*"
    "$PY" -m venv --system-site-packages /tmp/seqkit-venv >>"$OUT/install.txt" 2>&1
    PY=/tmp/seqkit-venv/bin/python
    timeout 900 "$PY" -m pip install -q 'tensorflow[and-cuda]==2.21.*' -e '.[test]' >>"$OUT/install.txt" 2>&1 \
        || say "pip install tensorflow failed (see install.txt)"
fi
if ! has_tensorflow "$PY"; then
    say "NO TENSORFLOW: $PY cannot import tensorflow, no wheels in .whl, no package index reachable."
    "$PY" -c "import sys; print(sys.version)" >>"$SUMMARY" 2>&1
    "$PY" -c "import tensorflow" >>"$SUMMARY" 2>&1
    say "nothing to run: exit 3 after $(( $(date +%s) - started )) s"
    exit 3
fi

# seqkit itself: installed in place (no network needed), else from the source tree.
if ! "$PY" -c "import seqkit.cli.main" >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-deps --no-build-isolation --no-index -e . >>"$OUT/install.txt" 2>&1 \
        || say "pip install -e . failed; using PYTHONPATH=$PWD (seqkit.cli then comes from cli/ via the installer only)"
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" - >>"$SUMMARY" 2>&1 <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
print("python", sys.version.split()[0])
for name in ("tensorflow", "keras", "numpy", "click", "rich", "pytest", "hypothesis", "seqkit"):
    try:
        print(name, version(name))
    except PackageNotFoundError:
        print(name, "MISSING")
from seqkit._quiet import quiet_import
quiet_import()
import tensorflow as tf
print("build", dict(tf.sysconfig.get_build_info()))
print("gpus", tf.config.list_physical_devices("GPU"))
EOF

# 2. TensorFlow must see the GPU --------------------------------------------------------
QUICK=()
if ! "$PY" -c "import tensorflow as tf, sys; sys.exit(0 if tf.config.list_physical_devices('GPU') else 1)" >/dev/null 2>&1; then
    if [ "${GPU_CHECK_ALLOW_CPU:-0}" != 1 ]; then
        say "TensorFlow sees NO GPU (CUDA 12 libraries missing?): exit 4"
        exit 4
    fi
    say "TensorFlow sees no GPU; GPU_CHECK_ALLOW_CPU=1: a dry run (GPU tests skip, devices.py --quick)"
    QUICK=(--quick)
fi

# 3. seqkit info --------------------------------------------------------------------------
timeout 120 "$PY" -c "from seqkit.cli.main import main; main(['info', '--json'])" >"$OUT/info.json" 2>>"$SUMMARY"
say "seqkit info: policy device $("$PY" -c "import json; print(json.load(open('$OUT/info.json'))['policy_device'])" 2>/dev/null || echo '?')"

# 4. The GPU-marked tests -----------------------------------------------------------------
say "pytest -m gpu"
timeout 300 "$PY" -m pytest -m gpu tests/test_gpu.py -p no:cacheprovider -q -rs --durations=10 \
    --junitxml="$OUT/pytest-gpu.xml" >"$OUT/pytest-gpu.txt" 2>&1
tests_status=$?
say "pytest -m gpu exit $tests_status: $(tail -n 1 "$OUT/pytest-gpu.txt")"

# 5. The device benchmark -----------------------------------------------------------------
say "benchmarks/devices.py --budget $BUDGET"
timeout $(( BUDGET + 150 )) "$PY" benchmarks/devices.py "${QUICK[@]}" --budget "$BUDGET" --json "$OUT/devices.json" \
    >"$OUT/devices.txt" 2>&1
say "devices.py exit $?; $(grep -E '^suggested CUDNN_MIN_WORK' "$OUT/devices.txt" || echo 'no suggestion printed')"

say "done in $(( $(date +%s) - started )) s"
[ "$tests_status" -eq 0 ] || exit 1
exit 0
