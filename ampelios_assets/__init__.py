"""Ampelios: behaviour-based segmentation of e-commerce visitors."""
