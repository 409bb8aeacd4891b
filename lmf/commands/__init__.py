"""Subcommands of the ``lmf`` CLI, one module each (see ``lmf.cli``)."""
