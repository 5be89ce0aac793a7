#!/usr/bin/env bash
# The GPU check of issues 13 and 14 as ONE script on a CUDA machine with no network (tests/README.md, GPU section).
#
# Prepare here (network to PyPI, no GPU):   make wheelhouse-device      # -> .whl/device-wheels.tar.xz
# Then copy the repository with .whl/ to the GPU machine and run, from the repository root:
#     bash tools/gpu_check.sh
# It installs the kit offline into the image's Python (torch untouched), runs what `make test-gpu`
# runs (tests/gpu + the core tests, then every notebook under nbval with each notebook's peak GPU
# memory; a notebook that fails strict nbval is run again with --nbval-lax, to tell output
# differences from errors), then benchmarks/decode.py --device cuda in the time that is left.
# Everything lands in $OUT (default build/gpu): gpu_check.log, summary.md, summary.json,
# core.xml, notebooks.xml, notebook_memory.json, cuda.json, cuda.md (8 files, easy to copy back).
#
# Knobs: GPU_PY (python3), GPU_CHECK_BUDGET_S (480 s for the whole script, to finish inside a 10-minute slot),
# GPU_CHECK_PARTS ("install core notebooks bench"), GPU_BENCH_ARGS (see below).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-build/gpu}
mkdir -p "$OUT"
PY=${GPU_PY:-python3}
BUDGET=${GPU_CHECK_BUDGET_S:-480}
PARTS=${GPU_CHECK_PARTS:-install core notebooks bench}
BENCH_ARGS=${GPU_BENCH_ARGS:---sizes real --tokens 128 --repeats 2 --compiled bf16 --methods loop,fast,fast_streamer,generate,generate_static}
START=$(date +%s)
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
TEE_PID=$!
export PYTHONUNBUFFERED=1 DLI_SEQ_MODELS=offline HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
part() { [[ " $PARTS " == *" $1 "* ]]; }
stage() { echo; echo "=== $1 ($(( $(date +%s) - START )) s in, $(left) s left) ==="; }
declare -A RC

stage "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi failed"
$PY -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"

if part install; then
  stage "offline install (torch kept)"
  $PY tools/offline.py install --wheelhouse .whl/device-wheels.tar.xz --relax-missing --without jupyterlab playwright
  RC[install]=$?
  if [[ ${RC[install]} != 0 ]]; then echo "offline install failed: nothing else can run"; PARTS=""; fi
fi

if part core; then
  stage "core: tests/gpu (real size + stand-ins, fp32/bf16, fast path), widgets, core tests"
  timeout $(( $(left) > 300 ? 260 : $(left) - 40 )) $PY -m pytest tests/gpu tests/test_fastpath.py tests/test_decoding.py \
      tests/test_streaming.py tests/test_inputs.py tests/test_widgets.py tests/test_figures_live.py -p no:cacheprovider -q -rfEs --junitxml="$OUT/core.xml"
  RC[core]=$?
fi

if part notebooks; then
  stage "notebooks: nbval on cuda with the stand-ins, peak GPU memory"
  timeout $(( $(left) > 240 ? 200 : $(left) - 40 )) env PYTHONPATH=tests/gpu DLI_SEQ_GPU_MEMORY_REPORT="$OUT/notebook_memory.json" \
      $PY -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p nbval_gpu_memory \
      notebooks -p no:cacheprovider -q -rfE --junitxml="$OUT/notebooks.xml"
  RC[notebooks]=$?
  failed=$($PY - "$OUT/notebooks.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
except Exception:
    sys.exit()
bad = {c.get("classname", "").replace(".", "/") for c in cases if c.find("failure") is not None or c.find("error") is not None}
print(" ".join(sorted({b.split("::")[0] for b in bad})))
EOF
)
  if [[ -n "$failed" && $(left) -gt 120 ]]; then
    stage "notebooks that failed strict nbval, again with --nbval-lax (errors only): $failed"
    for nb in $(ls notebooks/*.ipynb notebooks/solutions/*.ipynb); do
      stem=$(basename "$nb" .ipynb)
      if [[ "$failed" == *"$stem"* ]]; then
        timeout 90 $PY -m pytest --nbval-lax --nbval-current-env "$nb" -p no:cacheprovider -q -rfE
      fi
    done
  fi
fi

if part bench && [[ $(left) -gt 90 ]]; then
  stage "benchmark: benchmarks/decode.py --device cuda $BENCH_ARGS"
  timeout $(( $(left) - 30 )) $PY benchmarks/decode.py --device cuda $BENCH_ARGS --out "$OUT"
  RC[bench]=$?
fi

stage "summary"
for k in "${!RC[@]}"; do echo "$k=${RC[$k]}"; done > "$OUT/.rc"
$PY tools/gpu_summary.py "$OUT" --wall-s $(( $(date +%s) - START ))
rm -f "$OUT/.rc"
echo "gpu_check done in $(( $(date +%s) - START )) s"
exec 1>&- 2>&-
wait $TEE_PID  # the log is complete before anyone collects $OUT
