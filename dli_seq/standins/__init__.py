"""Offline stand-in models: synthetic data, training script and shipped weights."""
