"""Instruction fine-tuning (the INSTRUCTOR recipe), one module per part:

* :mod:`.tasks` -- the training tasks, their instruction phrasings and data sources (readers and splits);
* :mod:`.mixture` -- the MEDI-style mixture of examples, grouped into per-(task, phrasing) sub-datasets;
* :mod:`.loss` -- cross-entropy over cosine / temperature with same-label masking;
* :mod:`.config` -- the JSON run configuration;
* :mod:`.trainer` -- loading the base model (through :func:`instructor_core.load_encoder`), training,
  checkpoints, the run log and the fp16 export; ``python -m instructor_core.train``;
* :mod:`.evaluate` -- dev-set evaluation, on the labeled sets and on crossed sets (each text labeled twice);
  ``python -m instructor_core.evaluate``.

Needs the ``train`` extra: ``pip install -r requirements-train.txt``.
"""
