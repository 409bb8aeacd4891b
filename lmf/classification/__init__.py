"""Classification under class imbalance: the LMF paper's task (Sadi et al.), with Cao et al.'s
long-tailed CIFAR and Scholz et al.'s metric losses beside it.

=================  ===============================================================================
``config``         ``RunConfig``: one classification run (dataset, model, loss, recipe, seed)
``data``           a config's dataset prepared (``lmf.data``) for the engine
``train``          the engine: ``fit(config)`` trains through ``lmf.core.trainer.Trainer``
``models``         torchvision/timm networks by name (``MODEL_REGISTRY``); ``resnet_cifar``: Cao
                   et al.'s ResNet-32
``metrics``        accuracy, macro and per-class F1, balanced accuracy, MCC
``profiles``       the ``cpu``/``paper``/``cifar_lt`` profiles: models, epochs, grids' settings
``paper``          the published numbers (``data/paper/*.tsv``); ``dataset_check``: a dataset on
                   disk against them
``report``         the tables and readings of notebooks 01–06 and 08; ``plots``: their figures
``cam``            Grad-CAM maps, scores and the image-selection rule (notebook 05)
``features``       penultimate features and their separation (notebook 08)
=================  ===============================================================================

It imports the core, ``lmf.data`` and ``lmf.losses``, never ``lmf.seg``. To add a loss: a class
in ``lmf.losses`` registered in ``LOSS_REGISTRY`` (``lmf.losses.factory``); a dataset: a source
in ``lmf.data.sources`` named in ``lmf.data.registry``; a network: a ``MODEL_REGISTRY`` entry in
``models``; a grid: a builder in ``lmf.sweep.grids``.
"""
