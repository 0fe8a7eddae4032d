from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements() -> list:
    lines = (HERE / 'requirements.txt').read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


setup(
    name='mmaction_ft',
    version='0.1.0',
    description='Config-driven finetuning of video action-recognition models, '
    'compatible with MMAction2 checkpoints, annotation files and configs.',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['mmaction_ft', 'mmaction_ft.*']),
    install_requires=read_requirements(),
    extras_require={
        # transformers (+ safetensors) writes the reference VideoMAE checkpoints of the hf://
        # converter tests; mmaction_ft itself only needs safetensors to read such folders.
        'tests': ['pytest>=7', 'ruff>=0.4', 'transformers', 'safetensors'],
        'tensorboard': ['tensorboard'],
        # tools/deployment/export.py --format onnx: torch's exporter + the runtime that checks it.
        'onnx': ['onnx', 'onnxscript', 'onnxruntime'],
    },
)
