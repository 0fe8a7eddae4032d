"""mmaction_ft: config-driven finetuning of video action-recognition models."""

__version__ = '0.1.0'
