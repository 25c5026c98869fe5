"""Import of the funders' referral lists (issue 23), plain Python without Flask:

- `reader`: the rows of a CSV (``;`` or ``,``, UTF-8 with or without BOM, Windows-1252) or
  XLSX file (openpyxl, read-only), one at a time, blank lines skipped, the header found
  below a title;
- `mapping`: which column holds which field (presets per programme in
  ``seeds/import_presets/``, kept in the table ``import_presets``);
- `checks`: one row turned into typed values and French problems naming the row, the
  column and the rule (the forms' rules: rules/people.py, rules/lifecycle.py);
- `matching`: a row matched to a person already known (external id, else names and birth
  date tolerant to accents, case, hyphens and swapped first and last names).

The service that loads, checks and writes is ``services/imports.py``; the screen is
``admin/imports.py``; the command ``flask import referrals`` is ``commands/imports.py``.
"""
