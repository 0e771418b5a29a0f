"""Runnable pipelines of this project."""
