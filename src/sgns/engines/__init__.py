"""The engines: what both share (``base``), the choice between them (``choice``), the native
CPU engine (``native``) and the Keras engine (``keras``)."""
