"""The download-free demo: synthetic motion clips (:mod:`.data`) and the finetuning story run
on them (:mod:`.finetune`).

Not part of the library's import surface: nothing else in ``mmaction_ft`` imports this package
(it sits above ``apis``, beside ``tools``); ``tools/data/make_demo_dataset.py``,
``tools/demo_finetune.py`` and the tests import its modules by their full path.
"""
