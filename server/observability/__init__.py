"""What a running jobmonitor tells its operators: Prometheus metrics, OpenTelemetry traces and
structured logs. Every part is off or free until switched on."""
