#!/usr/bin/python3
"""validate_manifest.py SCHEMA MANIFEST: exits 0 if MANIFEST is valid, 1 with the reason if not."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
try:
    jsonschema.validate(json.load(open(sys.argv[2])), schema, cls=jsonschema.Draft202012Validator)
except jsonschema.ValidationError as e:
    print(f"{sys.argv[2]}: {e.message} at {'/'.join(map(str, e.absolute_path))}")
    sys.exit(1)
