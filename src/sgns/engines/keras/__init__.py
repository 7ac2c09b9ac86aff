"""Keras engine: the two-table models trained with sparse steps on any Keras 3 backend (JAX,
TensorFlow, PyTorch), on CPUs, GPUs and TPUs, and across devices and processes.

From the bottom up: ``backend`` (which backend, which devices; imports Keras only when asked),
``cluster`` (several processes), ``sparse`` and ``torch_ops`` (row operations per backend),
``exchange`` (updates across devices), ``runs`` (CBOW's runs of windows), ``two_tables`` (the
models' shared step), ``models``, ``batches``, ``driver`` (the epochs) and ``diagram``.
The engine's entry point is :func:`sgns.engines.keras.driver.train_keras`. Importing this
package imports nothing: ``backend`` and ``cluster`` are asked before Keras is.
"""
