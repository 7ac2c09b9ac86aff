"""A training run: ``train()`` (``train``), the epoch hook (``hooks``), growing a model
(``grow``), checkpoints, the run folder (``result``) and the memory check."""
