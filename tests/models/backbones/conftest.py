import pytest
import torch


def _output_and_gradients(block, x, forward):
    x.grad = None
    block.zero_grad()
    out = forward(x)
    out.square().sum().backward()
    return out.detach(), [x.grad.clone()] + [p.grad.clone() for p in block.parameters()]


def check_residual_block(block, x, branch):
    """``block(x)`` against ``relu(branch(x) + identity(x))`` summed out of place: the output
    and the gradients of ``x`` and of every parameter (train mode: batch statistics)."""

    def reference(inputs):
        identity = inputs if block.downsample is None else block.downsample(inputs)
        return torch.relu(branch(inputs) + identity)

    out, grads = _output_and_gradients(block, x, block)
    ref_out, ref_grads = _output_and_gradients(block, x, reference)
    assert torch.allclose(out, ref_out, atol=1e-6)
    for grad, ref_grad in zip(grads, ref_grads):
        assert torch.allclose(grad, ref_grad, atol=1e-5)


@pytest.fixture
def residual_block_check():
    """``residual_block_check(block, x, branch)``: see :func:`check_residual_block`."""
    return check_residual_block


def conv_branch(block):
    """The plain chain conv1 -> conv2 (-> conv3) of a ResNet-style block."""
    convs = [block.conv1, block.conv2] + ([block.conv3] if hasattr(block, 'conv3') else [])

    def branch(x):
        for conv in convs:
            x = conv(x)
        return x

    return branch


@pytest.fixture
def resnet_branch():
    """``resnet_branch(block)``: the residual branch of a (2D or 3D) ResNet block."""
    return conv_branch
