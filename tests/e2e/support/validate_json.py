#!/usr/bin/env python3
"""validate_json.py SCHEMA FILE: validates a JSON document against a JSON Schema (draft 2020-12) with
python3-jsonschema; prints "valid" or every error with its path, and exits 1 on errors."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1], encoding="utf-8"))
doc = json.load(open(sys.argv[2], encoding="utf-8"))
validator = jsonschema.Draft202012Validator(schema)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("/".join(str(p) for p in e.path) or "(root)", ":", e.message)
if errors:
    sys.exit(1)
print("valid")
