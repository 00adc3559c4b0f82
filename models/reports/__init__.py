"""Report assembly: the figures the weekly report, the exporter and the Reports page print."""
