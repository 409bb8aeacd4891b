"""One module per dataset source, each exposing ``SOURCE`` (``medmnist`` exposes ``source(flag)``)."""
