#!/usr/bin/env python3
"""ws_echo.py: the seeds' echo sample in Python, one line at a time."""
import sys

for line in sys.stdin:
    sys.stdout.write(line)
    sys.stdout.flush()
