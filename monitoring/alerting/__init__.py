"""Early-warning detectors (pure Python, no Django): rules consume buckets or mentions one at a
time, keep their state per series, and return self-explaining alerts."""
