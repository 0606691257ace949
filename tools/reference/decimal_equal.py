"""Oracle for the code judge's number comparison: reads a JSON file [[a, b], ...] (argv[1]) and prints, for each pair,
whether Python's Decimal(a) == Decimal(b) (LiveCodeBench's convert_line_to_decimals), or "invalid" when Decimal
rejects either side. Run with the system interpreter: /usr/bin/python3 tools/reference/decimal_equal.py pairs.json"""
import json
import sys
from decimal import Decimal, InvalidOperation

out = []
with open(sys.argv[1], encoding="utf-8") as f:
    pairs = json.load(f)
for a, b in pairs:
    try:
        x, y = Decimal(a), Decimal(b)
    except (InvalidOperation, ValueError):
        out.append("invalid")
        continue
    try:
        out.append("equal" if x == y else "different")
    except InvalidOperation:  # signalling NaN compares by raising
        out.append("different")
print(json.dumps(out))
