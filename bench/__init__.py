"""Benchmarks of jobmonitor's read paths; run each as `python -m bench.<script>` (see README)."""
