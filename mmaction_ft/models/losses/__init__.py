from .cross_entropy_loss import BCELossWithLogits, CrossEntropyLoss, inverse_frequency_weights

__all__ = ['BCELossWithLogits', 'CrossEntropyLoss', 'inverse_frequency_weights']
