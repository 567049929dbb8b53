"""Our tabular diffusion model: Gaussian noise on numbers, masking on categories, one denoiser.

encoding.py: model columns ↔ normal scores and class codes; network.py: the denoiser MLP;
process.py: noise, masking, the training loss and the sampler; generator.py: the `diffusion` generator.
"""
