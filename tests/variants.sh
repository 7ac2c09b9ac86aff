#!/usr/bin/env bash
# The suite's variants, after the README's test command (which runs everything on JAX, for this
# CPU): the Keras engine's tests on TensorFlow and PyTorch (Keras picks its backend once, when
# it is first imported, so each backend is a run of its own), and the native engine's tests
# compiled for CPUs without AVX-512: Haswell (AVX2) as it is, and generic x86-64 (SSE2) with
# every array access bounds-checked. Each CPU variant compiles into an empty numba cache, so
# no code built for this CPU, or unchecked, is loaded.
# NUMBA_CPU_FEATURES must be set with NUMBA_CPU_NAME: alone, the name keeps this CPU's features
# (AVX-512 included).
set -uo pipefail
status=0  # every run runs; the script fails if any did
cd "$(dirname "$0")/.."
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
for backend in tensorflow torch; do
    echo "== the Keras engine's tests on $backend"
    KERAS_BACKEND=$backend TF_CPP_MIN_LOG_LEVEL=2 python -m pytest -m keras -q -p no:cacheprovider || status=1
done
echo "== the native engine's tests for a Haswell CPU (AVX2)"
NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES="" NUMBA_CACHE_DIR="$cache/haswell" \
    python -m pytest -m native -q -p no:cacheprovider || status=1
echo "== the native engine's tests for generic x86-64 (SSE2), bounds-checked"
# (Less the test of how a kernel's loops compile: bounds checks change that code.)
NUMBA_CPU_NAME=generic NUMBA_CPU_FEATURES="" NUMBA_BOUNDSCHECK=1 NUMBA_CACHE_DIR="$cache/generic" \
    python -m pytest -m native -k "not whoever_compiles_it_first" -q -p no:cacheprovider || status=1
exit $status
