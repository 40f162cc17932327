"""Report files for staff: bar charts (PNG) and CSV/XLSX exports, built in memory as bytes."""
