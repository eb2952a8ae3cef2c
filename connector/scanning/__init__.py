"""The phases of one scan, each with one job; connector/scan.py runs them in order (read it first)."""
