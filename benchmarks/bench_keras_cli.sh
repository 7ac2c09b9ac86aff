#!/usr/bin/env bash
# `sgns train --engine keras` from the command line on 20 Newsgroups, as a user runs it on
# whatever device Keras sees: per backend and model, the wall time, training seconds, batch,
# devices and per-epoch seconds from run.json, then `sgns evaluate` of the run folder.
#
#     bash benchmarks/bench_keras_cli.sh          # the runs below; logs in $OUT (default /tmp)
#     RUNS=backends bash benchmarks/bench_keras_cli.sh   # JAX, TensorFlow and PyTorch: the
#                                                 # defaults, and --preset notebook --epochs 1
#     RUNS=bags bash benchmarks/bench_keras_cli.sh       # --model cbow and --subwords on JAX
#                                                 # and PyTorch (RUNS=cbow: CBOW only)
#     RUNS=torch bash benchmarks/bench_keras_cli.sh      # skip-gram and --model cbow on
#                                                 # PyTorch only
#
# Offline: set SGNS_20NEWS_ARCHIVE to the 20 Newsgroups archive.
set -u
OUT=${OUT:-/tmp}
one() {
  name=$1; backend=$2; shift 2
  s=$(date +%s.%N)
  KERAS_BACKEND=$backend timeout 300 python3 -m sgns train --corpus 20newsgroups \
    --engine keras --out "/tmp/sgns-bench-$name" --overwrite --no-plots --quiet "$@" \
    > "$OUT/$name.log" 2>&1
  rc=$?; e=$(date +%s.%N)
  KERAS_BACKEND=$backend timeout 120 python3 -m sgns evaluate "/tmp/sgns-bench-$name" \
    > "$OUT/$name.eval" 2>&1
  python3 - "$name" "$backend" "$rc" "$s" "$e" "$*" <<'PY'
import json, sys
name, backend, rc, s, e, args = sys.argv[1:]
try:
    info = json.load(open(f"/tmp/sgns-bench-{name}/run.json"))
except OSError as exc:
    sys.exit(f"{name} [{backend}]: rc={rc}, no run.json ({exc})")
seconds = [round(x["seconds"], 2) for x in info["epochs"]]
print(f"{name} [{backend}] {args}: rc={rc} wall={float(e) - float(s):.1f}s "
      f"train={info['train_seconds']:.2f}s batch={info['params']['batch_size']} "
      f"devices={info.get('devices')} epochs={seconds}")
PY
  tail -4 "$OUT/$name.eval"; tail -2 "$OUT/$name.log"
}
if [ "${RUNS:-gpu}" = backends ]; then
  # Every backend on this machine: the defaults, then the notebook preset for one epoch.
  for backend in jax tensorflow torch; do
    one "skipgram-$backend" "$backend"
    one "notebook-$backend" "$backend" --preset notebook --epochs 1
  done
  exit 0
fi
if [ "${RUNS:-gpu}" = cbow ]; then
  one cbow-jax jax --model cbow
  one cbow-torch torch --model cbow
  exit 0
fi
if [ "${RUNS:-gpu}" = torch ]; then
  one skipgram-torch torch
  one cbow-torch torch --model cbow
  exit 0
fi
if [ "${RUNS:-gpu}" = bags ]; then
  # The models whose step sums bags of rows (CBOW, subwords) on JAX and PyTorch.
  for backend in jax torch; do
    one "cbow-$backend" "$backend" --model cbow
    one "subwords-$backend" "$backend" --subwords
  done
  exit 0
fi
one skipgram-jax jax
one skipgram-torch torch
one skipgram-jax-4096 jax --batch-size 4096
one cbow-jax jax --model cbow
one cbow-torch torch --model cbow
one subwords-jax jax --subwords
