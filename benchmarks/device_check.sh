#!/usr/bin/env bash
# What a lent GPU machine runs (the device tool of this workplace): the Keras engine's
# figures for the README's "The Keras engine on a GPU". That machine has JAX and PyTorch with
# CUDA but no Keras or gensim, and no network: their wheels travel in .whl/ (Python 3.12), the
# 20 Newsgroups archive in .devdata/. Each part has its own time limit, so that one stuck
# backend leaves the others' figures.
#
#     bash benchmarks/device_check.sh [all|device|cli|torch|stream]     # default: all
#
# torch: bench_device.py on both backends, then the command line's PyTorch runs only (after a
# change to PyTorch's step alone). stream: bench_device.py's skip-gram defaults and the pair
# stream's rates alone (after a change to the stream).
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
export SGNS_20NEWS_ARCHIVE=$PWD/.devdata/20news-bydate.tar.gz
LOGS=${OUT:-/tmp}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
KERAS_BACKEND=jax python3 -c "import jax, torch, keras; print('jax', jax.__version__, jax.devices(), \
'torch', torch.__version__, torch.cuda.is_available(), 'keras', keras.__version__)"
what=${1:-all}
if [ "$what" = stream ]; then
  timeout 200 python3 benchmarks/bench_device.py --backends jax torch --recipes word2vec \
    --timeout 80 2>&1 | tee "$LOGS/stream.log"
fi
if [ "$what" != cli ] && [ "$what" != stream ]; then
  timeout 280 python3 benchmarks/bench_device.py --backends jax torch --timeout 150 \
    2>&1 | tee "$LOGS/device.log"
fi
if [ "$what" = all ] || [ "$what" = cli ]; then
  mkdir -p /tmp/cli
  # skip-gram on JAX and PyTorch, JAX at --batch-size 4096, CBOW on both, subwords on JAX
  OUT=/tmp/cli timeout 250 bash benchmarks/bench_keras_cli.sh 2>&1 | tee "$LOGS/cli.log"
fi
if [ "$what" = torch ]; then
  mkdir -p /tmp/cli
  OUT=/tmp/cli RUNS=torch timeout 120 bash benchmarks/bench_keras_cli.sh 2>&1 | tee "$LOGS/cli.log"
fi
