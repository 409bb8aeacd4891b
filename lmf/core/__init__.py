"""The shared core both tasks build on; it imports no task (``lmf.classification``, ``lmf.seg``).

=================  ===============================================================================
``runs``           the run store: a run id from the config's fingerprint, atomic run files, loaders
``engine``         ``train_once``: one run into the store (lock, resume, finish, failure record)
``trainer``        ``Trainer``: the epoch loop, autocast, checkpoints, resume, best/last/history;
                   a task subclasses it and supplies its hooks and key metric
``checked_config`` ``CheckedConfig``: the scaffolding of a task's run config (checks, dicts, id)
``optim``          the recipe's optimiser and schedule
``registry``       ``Registry``: name -> builder with keyword defaults, for losses and networks
``batches``        epoch orders, samplers, progressive resizing; ``inputs``: pixels to a batch
``weights``        where pretrained torchvision weights are looked for, and the error when absent
``numerics``       the pinned CPU numerics (imported by ``lmf`` before torch and NumPy)
``atomic``, ``paths``, ``devices``, ``machine``, ``validation``, ``errors``: the plumbing;
``outputs``, ``parameters``, ``regression``: figures and tables written, notebook parameters,
the committed tables compared; ``throughput``: step timing; ``aliases``: the public module names.
=================  ===============================================================================

What may go here: code that serves both tasks and names neither. A task's code imports from here;
the core reaches a task only by name through ``lmf.tasks``.
"""
